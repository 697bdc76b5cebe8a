"""Feeds the emulator's CloudWatch Logs, for one training job, log lines in the format the
TensorPack Mask R-CNN image prints (tensorpack's logger: `[MMDD HH:MM:SS @file.py:line] text`;
its ScalarPrinter writes one `name: value` line per statistic at each epoch's end, and the COCO
evaluation callback writes the mAP(bbox)/... and mAP(segm)/... lines). The emulator runs no
container and writes no logs, so `job logs` and `job metrics` would have nothing to show.

This is a recorded-format SAMPLE, not a training run: values are made up (losses falling over
three epochs, one evaluation). Two hosts, as a two-instance job has: algo-1 (the chief, which
prints the statistics) and algo-2.

usage: tensorpack-logs.py JOB_NAME REGION ENDPOINT
"""
import sys
import time

import boto3

job, region, endpoint = sys.argv[1:4]
logs = boto3.client("logs", region_name=region, endpoint_url=endpoint,
                    aws_access_key_id="demo", aws_secret_access_key="demo")
group = "/aws/sagemaker/TrainingJobs"
try:
    logs.create_log_group(logGroupName=group)
except logs.exceptions.ResourceAlreadyExistsException:
    pass

start = int(time.time() * 1000) - 60 * 60 * 1000  # an hour ago, one line every few seconds
events = {"algo-1": [], "algo-2": []}
clock = [start]


def say(host, where, text, step_ms=2000):
    clock[0] += step_ms
    t = time.gmtime(clock[0] / 1000)
    stamp = time.strftime("%m%d %H:%M:%S", t)
    events[host].append({"timestamp": clock[0], "message": f"[{stamp} @{where}] {text}"})


for host in ("algo-1", "algo-2"):
    say(host, "train.py:93", "Environment Information: TensorFlow 1.15, horovod 0.19, 8 GPUs", 500)
    say(host, "input_source.py:223", "Setting up the queue 'QueueInput/input_queue' for CPU prefetching ...", 500)
say("algo-1", "base.py:233", "Start Epoch 1 ...")
say("algo-2", "base.py:233", "Start Epoch 1 ...", 100)

losses = [
    # box_loss, label_loss, accuracy, false_negative, fg_accuracy, num_fg, mask acc, fg_pixel, mask loss, pos acc
    (0.412, 0.521, 0.871, 0.621, 0.201, 31.2, 0.701, 0.351, 0.551, 0.612),
    (0.301, 0.352, 0.912, 0.412, 0.451, 38.9, 0.782, 0.362, 0.402, 0.703),
    (0.236, 0.274, 0.934, 0.307, 0.571, 42.6, 0.821, 0.366, 0.335, 0.752),
]
names = ["fastrcnn_losses/box_loss", "fastrcnn_losses/label_loss",
         "fastrcnn_losses/label_metrics/accuracy", "fastrcnn_losses/label_metrics/false_negative",
         "fastrcnn_losses/label_metrics/fg_accuracy", "fastrcnn_losses/num_fg_label",
         "maskrcnn_loss/accuracy", "maskrcnn_loss/fg_pixel_ratio", "maskrcnn_loss/maskrcnn_loss",
         "maskrcnn_loss/pos_accuracy"]
for epoch, values in enumerate(losses, start=1):
    step = epoch * 500
    for host in ("algo-1", "algo-2"):
        say(host, "base.py:243", f"Epoch {epoch} (global_step {step}) finished, time:10 minutes 2 seconds.", 600_000 if host == "algo-1" else 100)
    for name, value in zip(names, values):
        say("algo-1", "monitor.py:474", f"{name}: {value}", 10)
    say("algo-1", "monitor.py:474", f"total_cost: {sum(values[:2]) + values[8]:.4f}", 10)
    if epoch < len(losses):
        say("algo-1", "base.py:233", f"Start Epoch {epoch + 1} ...")
        say("algo-2", "base.py:233", f"Start Epoch {epoch + 1} ...", 100)

say("algo-1", "eval.py:251", "Running evaluation on 5000 images (COCO val2017) ...")
for kind, values in (("bbox", (0.612, 0.389, 0.421, 0.502, 0.421, 0.221)),
                     ("segm", (0.581, 0.354, 0.377, 0.521, 0.382, 0.158))):
    for metric, value in zip(("IoU=0.5", "IoU=0.5:0.95", "IoU=0.75", "large", "medium", "small"), values):
        say("algo-1", "monitor.py:474", f"mAP({kind})/{metric}: {value}", 10)
for host in ("algo-1", "algo-2"):
    say(host, "base.py:289", "Training has finished!", 500)

for host, batch in events.items():
    stream = f"{job}/{host}-1700000000"
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)
print(f"fed {sum(map(len, events.values()))} log lines of job {job} (algo-1, algo-2): "
      "a recorded-format SAMPLE of the tensorpack image's output, not a real training run")
