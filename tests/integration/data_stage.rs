//! `stackctl data stage` and `data status` against the emulator's S3: every key, size and
//! checksum after an upload; nothing sent the second time; only what was deleted or corrupted
//! the third time; a killed upload that resumes; `--download` from a local HTTP server; bad
//! layouts that exit 2 before any AWS call.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use md5::{Digest, Md5};

use crate::deploy_up::stackctl_aws;
use crate::support::emulator::Emulator;
use crate::support::fault_proxy::{FaultProxy, Rewrite};
use crate::support::{Output, spawn_stackctl};

const PREFIX: &str = "mask-rcnn/sagemaker/input/train";
const MIB: usize = 1024 * 1024;

/// Deterministic bytes that differ per file.
fn bytes(seed: usize, len: usize) -> Vec<u8> {
    let mut x = (seed as u64)
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A COCO-shaped tree: `train` + `val` small images, two annotation files, and a weights file
/// of `weights` bytes. Returns relative path -> content.
pub(crate) fn coco_tree(
    root: &Path,
    train: usize,
    val: usize,
    weights: usize,
) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for i in 0..train {
        files.insert(
            format!("train2017/{i:012}.jpg"),
            bytes(i, 1_000 + i * 7 % 3_000),
        );
    }
    for i in 0..val {
        files.insert(format!("val2017/{i:012}.jpg"), bytes(100_000 + i, 900 + i));
    }
    files.insert(
        "annotations/instances_train2017.json".into(),
        br#"{"images": [], "annotations": [], "categories": []}"#.to_vec(),
    );
    files.insert(
        "annotations/instances_val2017.json".into(),
        br#"{"images": [], "annotations": []}"#.to_vec(),
    );
    files.insert(
        "pretrained-models/ImageNet-R50-AlignPadding.npz".into(),
        bytes(999, weights),
    );
    for (rel, body) in &files {
        let path = root.join(rel);
        fs_err::create_dir_all(path.parent().unwrap()).unwrap();
        fs_err::write(path, body).unwrap();
    }
    files
}

async fn s3(emulator: &Emulator) -> aws_sdk_s3::Client {
    emulator.s3().await
}

/// Every object under the prefix: relative key -> content.
async fn objects(s3: &aws_sdk_s3::Client, bucket: &str) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut pages = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(format!("{PREFIX}/"))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for o in page.unwrap().contents() {
            let key = o.key().unwrap();
            let body = s3
                .get_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .unwrap()
                .body
                .collect()
                .await
                .unwrap()
                .into_bytes()
                .to_vec();
            assert_eq!(o.size(), Some(body.len() as i64), "listed size of {key}");
            out.insert(
                key.strip_prefix(&format!("{PREFIX}/")).unwrap().to_owned(),
                body,
            );
        }
    }
    out
}

fn md5_hex(body: &[u8]) -> String {
    Md5::digest(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Asserts that S3 holds exactly `files` (keys, sizes, MD5s).
async fn assert_same(s3: &aws_sdk_s3::Client, bucket: &str, files: &BTreeMap<String, Vec<u8>>) {
    let got = objects(s3, bucket).await;
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        files.keys().collect::<Vec<_>>(),
        "keys under the prefix"
    );
    for (rel, body) in files {
        assert_eq!(got[rel].len(), body.len(), "size of {rel}");
        assert_eq!(md5_hex(&got[rel]), md5_hex(body), "MD5 of {rel}");
    }
}

fn summary(out: &Output) -> serde_json::Value {
    assert_eq!(
        out.code, 0,
        "stackctl failed:\n{}\n{}",
        out.stdout, out.stderr
    );
    serde_json::from_str(out.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

async fn bucket(emulator: &Emulator, name: &str) -> aws_sdk_s3::Client {
    let s3 = s3(emulator).await;
    s3.create_bucket().bucket(name).send().await.unwrap();
    s3
}

#[tokio::test(flavor = "multi_thread")]
async fn stage_uploads_everything_then_nothing_then_only_what_changed() {
    let emulator = Emulator::start();
    let s3 = bucket(&emulator, "coco").await;
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("coco");
    // 12 MiB of weights: a multipart upload of two 8 MiB parts.
    let files = coco_tree(&tree, 300, 60, 12 * MIB + 5);
    let e = Some(&emulator);
    let stage = |extra: &[&str]| {
        let mut args = vec![
            "data", "stage", "--from", "coco", "--bucket", "coco", "--to", "s3", "--output", "json",
        ];
        args.extend_from_slice(extra);
        stackctl_aws(e, dir.path(), &args)
    };

    let first = summary(&stage(&[]));
    assert_eq!(first["s3"]["files"], files.len());
    assert_eq!(first["s3"]["uploaded_files"], files.len());
    assert_eq!(first["s3"]["skipped_files"], 0);
    let total: usize = files.values().map(Vec::len).sum();
    assert_eq!(first["s3"]["uploaded_bytes"], total);
    assert_same(&s3, "coco", &files).await;
    // The weights went up in parts: their ETag is the multipart kind.
    let head = s3
        .head_object()
        .bucket("coco")
        .key(format!(
            "{PREFIX}/pretrained-models/ImageNet-R50-AlignPadding.npz"
        ))
        .send()
        .await
        .unwrap();
    assert!(
        head.e_tag().unwrap().ends_with("-2\""),
        "{:?}",
        head.e_tag()
    );

    let second = summary(&stage(&[]));
    assert_eq!(second["s3"]["uploaded_files"], 0, "{second}");
    assert_eq!(second["s3"]["uploaded_bytes"], 0);
    assert_eq!(second["s3"]["skipped_files"], files.len());

    // Delete two objects and corrupt two (same size, other bytes), one of them the weights.
    for rel in [
        "train2017/000000000007.jpg",
        "annotations/instances_val2017.json",
    ] {
        s3.delete_object()
            .bucket("coco")
            .key(format!("{PREFIX}/{rel}"))
            .send()
            .await
            .unwrap();
    }
    for rel in [
        "val2017/000000000003.jpg",
        "pretrained-models/ImageNet-R50-AlignPadding.npz",
    ] {
        let mut body = files[rel].clone();
        body[0] ^= 0xff;
        s3.put_object()
            .bucket("coco")
            .key(format!("{PREFIX}/{rel}"))
            .body(body.into())
            .send()
            .await
            .unwrap();
    }
    let third = summary(&stage(&[]));
    assert_eq!(third["s3"]["uploaded_files"], 4, "{third}");
    assert_eq!(
        third["s3"]["uploaded_bytes"],
        files["train2017/000000000007.jpg"].len()
            + files["annotations/instances_val2017.json"].len()
            + files["val2017/000000000003.jpg"].len()
            + files["pretrained-models/ImageNet-R50-AlignPadding.npz"].len()
    );
    assert_same(&s3, "coco", &files).await;

    // data status: counts and bytes per folder, and the layout complete for both models.
    let status = stackctl_aws(
        e,
        dir.path(),
        &["data", "status", "--bucket", "coco", "--output", "json"],
    );
    let status = summary(&status);
    assert_eq!(status["objects"], files.len());
    assert_eq!(status["folders"]["train2017"]["objects"], 300);
    assert_eq!(status["folders"]["val2017"]["objects"], 60);
    assert_eq!(
        status["folders"]["pretrained-models"]["bytes"],
        12 * MIB + 5
    );
    assert_eq!(status["models"][0]["complete"], true, "{status}");
    assert_eq!(status["models"][1]["complete"], true, "{status}");
    assert_eq!(status["open_multipart_uploads"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn status_says_what_each_model_is_missing() {
    let emulator = Emulator::start();
    let s3 = bucket(&emulator, "partial").await;
    s3.put_object()
        .bucket("partial")
        .key(format!("{PREFIX}/train2017/1.jpg"))
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = stackctl_aws(
        Some(&emulator),
        dir.path(),
        &["data", "status", "--bucket", "partial"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("train2017/  1        1 B"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(
            "layout for tensorpack: incomplete: missing file `annotations/instances_train2017.json`"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("missing folder `val2017/`"),
        "{}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_upload_resumes_its_parts_and_completes() {
    let emulator = Emulator::start();
    let direct = bucket(&emulator, "resume").await;
    // moto 5.2.5 answers ListParts with a <ListPartsResponse> root, which the SDK rejects (AWS
    // says <ListPartsResult>) and without the upload's ChecksumAlgorithm; this proxy fixes
    // both and changes nothing else.
    let rename: Rewrite = Arc::new(|_, body: String| {
        if !body.contains("<ListPartsResponse") {
            return body;
        }
        // moto also leaves out the upload's ChecksumAlgorithm, which AWS lists for an
        // upload created with one (stackctl creates them with CRC32).
        body.replace("ListPartsResponse", "ListPartsResult")
            .replace(
                "<StorageClass>",
                "<ChecksumAlgorithm>CRC32</ChecksumAlgorithm><StorageClass>",
            )
    });
    let proxy = FaultProxy::start_with(
        emulator.endpoint.trim_start_matches("http://").to_owned(),
        0,
        Some(rename),
    );
    let s3 = {
        let config = emulator.sdk_config().await;
        aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&config)
                .endpoint_url(&proxy.endpoint)
                .force_path_style(true)
                .build(),
        )
    };
    let dir = tempfile::tempdir().unwrap();
    // 60 MiB of weights in 5 MiB parts, one request at a time, so the kill lands mid-file.
    let files = coco_tree(&dir.path().join("coco"), 200, 20, 60 * MIB);
    let args = [
        "--endpoint-url",
        &proxy.endpoint,
        "data",
        "stage",
        "--from",
        "coco",
        "--bucket",
        "resume",
        "--to",
        "s3",
        "--concurrency",
        "1",
        "--part-size",
        "5",
        "--output",
        "json",
    ];
    let mut child = spawn_stackctl(dir.path(), &args);
    let key = format!("{PREFIX}/pretrained-models/ImageNet-R50-AlignPadding.npz");
    let deadline = Instant::now() + Duration::from_secs(60);
    let upload_id = loop {
        assert!(Instant::now() < deadline, "no parts uploaded within 60 s");
        assert!(
            child.try_wait().unwrap().is_none(),
            "stackctl ended before it was killed"
        );
        let open = s3
            .list_multipart_uploads()
            .bucket("resume")
            .send()
            .await
            .unwrap();
        if let Some(id) = open.uploads().first().and_then(|u| u.upload_id()) {
            let parts = s3
                .list_parts()
                .bucket("resume")
                .key(&key)
                .upload_id(id)
                .send()
                .await
                .unwrap();
            if parts.parts().len() >= 3 {
                break id.to_owned();
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    child.kill().unwrap();
    child.wait().unwrap();
    let parts_before = s3
        .list_parts()
        .bucket("resume")
        .key(&key)
        .upload_id(&upload_id)
        .send()
        .await
        .unwrap()
        .parts()
        .len();
    assert!(parts_before < 12, "the kill came after the last part");

    let again = stackctl_aws(
        None,
        dir.path(),
        &[
            "--endpoint-url",
            &proxy.endpoint,
            "data",
            "stage",
            "--from",
            "coco",
            "--bucket",
            "resume",
            "--to",
            "s3",
            "--part-size",
            "5",
            "--output",
            "json",
        ],
    );
    let again = summary(&again);
    assert!(
        again["s3"]["resumed_parts"].as_u64().unwrap() >= parts_before as u64,
        "{again}"
    );
    assert_eq!(
        again["s3"]["uploaded_bytes"].as_u64().unwrap(),
        files.values().map(|b| b.len() as u64).sum::<u64>()
            - again["s3"]["skipped_bytes"].as_u64().unwrap()
            - again["s3"]["resumed_parts"].as_u64().unwrap() * 5 * MIB as u64,
        "{again}"
    );
    assert_same(&direct, "resume", &files).await;
    let open = s3
        .list_multipart_uploads()
        .bucket("resume")
        .send()
        .await
        .unwrap();
    assert!(
        open.uploads().is_empty(),
        "an upload was left open: {:?}",
        open.uploads()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upload_that_cannot_be_continued_is_aborted_and_uploaded_afresh_once() {
    // The interrupted upload is made with the SDK (what a killed `data stage` leaves: a CRC32
    // upload with two of its three parts), then the re-run's ListParts is refused through the
    // fault proxy with the S3 API reference's error answer ("Error responses": 403, an
    // <Error> with Code, Message, RequestId, HostId): s3:ListMultipartUploadParts missing from
    // the caller's policy, or any answer the SDK cannot read (moto's own ListParts root).
    let emulator = Emulator::start();
    let direct = bucket(&emulator, "fresh").await;
    let dir = tempfile::tempdir().unwrap();
    let files = coco_tree(&dir.path().join("coco"), 5, 2, 12 * MIB);
    let rel = "pretrained-models/ImageNet-R50-AlignPadding.npz";
    let key = format!("{PREFIX}/{rel}");
    let created = direct
        .create_multipart_upload()
        .bucket("fresh")
        .key(&key)
        .checksum_algorithm(aws_sdk_s3::types::ChecksumAlgorithm::Crc32)
        .send()
        .await
        .unwrap();
    let upload_id = created.upload_id().unwrap().to_owned();
    for number in 1..=2 {
        let part = files[rel][(number - 1) * 5 * MIB..number * 5 * MIB].to_vec();
        direct
            .upload_part()
            .bucket("fresh")
            .key(&key)
            .upload_id(&upload_id)
            .part_number(number as i32)
            .checksum_algorithm(aws_sdk_s3::types::ChecksumAlgorithm::Crc32)
            .body(part.into())
            .send()
            .await
            .unwrap();
    }
    let list_parts = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = list_parts.clone();
    let refuse: Rewrite = Arc::new(move |request: &str, body: String| {
        let line = request.lines().next().unwrap_or_default();
        if !(line.starts_with("GET ") && line.contains("uploadId=")) {
            return body;
        }
        seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let error = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>4442587FB7D0A2F9</RequestId><HostId>Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtRPfTaOFg==</HostId></Error>";
        format!(
            "HTTP/1.1 403 Forbidden\r\ncontent-type: application/xml\r\nx-amz-request-id: 4442587FB7D0A2F9\r\ncontent-length: {}\r\n\r\n{error}",
            error.len()
        )
    });
    let proxy = FaultProxy::start_with(
        emulator.endpoint.trim_start_matches("http://").to_owned(),
        0,
        Some(refuse),
    );
    let args = [
        "--endpoint-url",
        &proxy.endpoint,
        "data",
        "stage",
        "--from",
        "coco",
        "--bucket",
        "fresh",
        "--to",
        "s3",
        "--part-size",
        "5",
    ];
    let out = stackctl_aws(None, dir.path(), &args);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let notes: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("cannot continue the interrupted upload"))
        .collect();
    assert_eq!(notes.len(), 1, "{}", out.stderr);
    assert!(
        notes[0].starts_with(&format!("{key}: cannot continue the interrupted upload (s3:ListParts {key} failed: AccessDenied: Access Denied (HTTP 403, request id 4442587FB7D0A2F9)")),
        "{}",
        notes[0]
    );
    assert!(
        notes[0].ends_with("aborted it, uploading the file afresh"),
        "{}",
        notes[0]
    );
    // Once: ListParts was asked once, never again after the fresh start.
    assert_eq!(list_parts.load(std::sync::atomic::Ordering::Relaxed), 1);
    assert_same(&direct, "fresh", &files).await;
    let open = direct
        .list_multipart_uploads()
        .bucket("fresh")
        .send()
        .await
        .unwrap();
    assert!(
        open.uploads().is_empty(),
        "an upload was left open: {:?}",
        open.uploads()
    );
}

/// A tiny HTTP/1.1 file server with Range support; records each request's head.
struct FileServer {
    base: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl FileServer {
    fn start(files: BTreeMap<String, Vec<u8>>) -> FileServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if conn.read(&mut byte).unwrap_or(0) == 0 {
                        break;
                    }
                    head.push(byte[0]);
                }
                let raw = String::from_utf8_lossy(&head).into_owned();
                let path = raw.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let head = raw.to_ascii_lowercase();
                seen.lock().unwrap().push(head.clone());
                let answer = match files.get(&path) {
                    None => {
                        b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                            .to_vec()
                    }
                    Some(body) => {
                        let from = head
                            .lines()
                            .find_map(|l| l.strip_prefix("range: bytes="))
                            .and_then(|r| r.trim().trim_end_matches('-').parse::<usize>().ok());
                        let (status, part) = match from {
                            Some(n) => ("206 Partial Content", &body[n.min(body.len())..]),
                            None => ("200 OK", &body[..]),
                        };
                        let mut a = format!(
                            "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                            part.len()
                        )
                        .into_bytes();
                        a.extend_from_slice(part);
                        a
                    }
                };
                let _ = conn.write_all(&answer);
            }
        });
        FileServer { base, requests }
    }
}

/// A zip archive (stored, no compression) of `entries`.
fn zip_of(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, body) in entries {
        zip.start_file(*name, options).unwrap();
        zip.write_all(body).unwrap();
    }
    zip.finish().unwrap();
    out.into_inner()
}

#[tokio::test(flavor = "multi_thread")]
async fn download_fetches_verifies_extracts_and_uploads() {
    let emulator = Emulator::start();
    let s3 = bucket(&emulator, "dl-coco").await;
    let dir = tempfile::tempdir().unwrap();
    let train: Vec<(String, Vec<u8>)> = (0..40)
        .map(|i| (format!("train2017/{i:012}.jpg"), bytes(i, 700 + i)))
        .collect();
    let val: Vec<(String, Vec<u8>)> = (0..10)
        .map(|i| (format!("val2017/{i:012}.jpg"), bytes(500 + i, 600 + i)))
        .collect();
    let annotations = vec![
        (
            "annotations/instances_train2017.json".to_owned(),
            br#"{"images": []}"#.to_vec(),
        ),
        (
            "annotations/instances_val2017.json".to_owned(),
            br#"{"images": []}"#.to_vec(),
        ),
        (
            "annotations/captions_train2017.json".to_owned(),
            br#"{"captions": []}"#.to_vec(),
        ),
    ];
    let weights = zip_of(&[("conv0/W.npy", bytes(7, 3_000))]);
    fn as_refs(v: &[(String, Vec<u8>)]) -> Vec<(&str, Vec<u8>)> {
        v.iter().map(|(n, b)| (n.as_str(), b.clone())).collect()
    }
    // The official file names and paths (templates/data/coco2017.yaml).
    let served: BTreeMap<String, Vec<u8>> = [
        ("/zips/train2017.zip", zip_of(&as_refs(&train))),
        ("/zips/val2017.zip", zip_of(&as_refs(&val))),
        (
            "/annotations/annotations_trainval2017.zip",
            zip_of(&as_refs(&annotations)),
        ),
        ("/FasterRCNN/ImageNet-R50-AlignPadding.npz", weights.clone()),
    ]
    .into_iter()
    .map(|(p, b)| (p.to_owned(), b))
    .collect();
    let server = FileServer::start(served.clone());

    // The embedded table pins the official MD5s: these small archives fail verification,
    // nothing is extracted and nothing reaches S3.
    let e = Some(&emulator);
    let refused = stackctl_aws(
        e,
        dir.path(),
        &[
            "data",
            "stage",
            "--download",
            "coco2017",
            "--download-url",
            &server.base,
            "--work-dir",
            "work",
            "--bucket",
            "dl-coco",
            "--to",
            "s3",
        ],
    );
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("`train2017.zip` from ")
            && refused.stderr.contains("is corrupt: MD5 is ")
            && refused
                .stderr
                .contains("expected cced6f7f71b7629ddf16f17bbcfab6b2"),
        "{}",
        refused.stderr
    );
    assert!(
        !dir.path()
            .join("work/downloads/train2017.zip.part")
            .exists(),
        "a corrupt file was kept"
    );
    assert!(objects(&s3, "dl-coco").await.is_empty());

    // A table with these archives' checksums, and half of train2017.zip left by an earlier run.
    let table = format!(
        "files:\n{}",
        [
            ("train2017.zip", "/zips/train2017.zip", "extract: true"),
            ("val2017.zip", "/zips/val2017.zip", "extract: true"),
            ("annotations_trainval2017.zip", "/annotations/annotations_trainval2017.zip", "extract: true"),
            ("ImageNet-R50-AlignPadding.npz", "/FasterRCNN/ImageNet-R50-AlignPadding.npz", "to: pretrained-models"),
        ]
        .iter()
        .map(|(name, path, place)| format!(
            "  - name: {name}\n    url: http://images.cocodataset.org{path}\n    md5: {}\n    {place}\n",
            md5_hex(&served[*path])
        ))
        .collect::<String>()
    );
    fs_err::write(dir.path().join("table.yaml"), table).unwrap();
    let half = served["/zips/train2017.zip"].len() / 2;
    fs_err::create_dir_all(dir.path().join("work/downloads")).unwrap();
    fs_err::write(
        dir.path().join("work/downloads/train2017.zip.part"),
        &served["/zips/train2017.zip"][..half],
    )
    .unwrap();
    server.requests.lock().unwrap().clear();
    let args = [
        "data",
        "stage",
        "--download",
        "coco2017",
        "--download-url",
        &server.base,
        "--archives",
        "table.yaml",
        "--work-dir",
        "work",
        "--bucket",
        "dl-coco",
        "--to",
        "s3",
        "--output",
        "json",
    ];
    let first = summary(&stackctl_aws(e, dir.path(), &args));
    assert_eq!(first["download"]["fetched"], 4, "{first}");
    let requests = server.requests.lock().unwrap().clone();
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("get /zips/train2017.zip")
                && r.contains(&format!("range: bytes={half}-"))),
        "the partial file was not resumed: {requests:?}"
    );
    let mut expected: BTreeMap<String, Vec<u8>> = train
        .iter()
        .chain(&val)
        .chain(&annotations)
        .cloned()
        .collect();
    expected.insert(
        "pretrained-models/ImageNet-R50-AlignPadding.npz".into(),
        weights,
    );
    assert_same(&s3, "dl-coco", &expected).await;
    assert!(
        !dir.path().join("work/downloads/train2017.zip").exists(),
        "the archive was kept after extraction"
    );

    // Again: nothing downloaded, nothing uploaded.
    server.requests.lock().unwrap().clear();
    let second = summary(&stackctl_aws(e, dir.path(), &args));
    assert_eq!(second["download"]["already_done"], 4, "{second}");
    assert_eq!(second["s3"]["uploaded_files"], 0, "{second}");
    assert!(server.requests.lock().unwrap().is_empty());
}

/// A tree that breaks the layout in one way; returns the expected message part.
fn broken_tree(root: &Path, case: &str) -> &'static str {
    coco_tree(root, 3, 2, 10);
    match case {
        "no annotations" => {
            fs_err::remove_dir_all(root.join("annotations")).unwrap();
            "missing file `annotations/instances_train2017.json`"
        }
        "wrong folder name" => {
            fs_err::rename(root.join("train2017"), root.join("train")).unwrap();
            "unexpected folder `train/` at the top level (did you mean `train2017/`?); allowed: annotations/, pretrained-models/, test2017/, train2017/, val2017/"
        }
        "unreadable file" => {
            std::os::unix::fs::symlink(root.join("gone.jpg"), root.join("val2017/broken.jpg"))
                .unwrap();
            "cannot read `val2017/broken.jpg`: No such file or directory"
        }
        "malformed annotation" => {
            fs_err::write(
                root.join("annotations/instances_val2017.json"),
                "<html>502 Bad Gateway</html>",
            )
            .unwrap();
            "`annotations/instances_val2017.json` is not a COCO annotation file"
        }
        _ => unreachable!(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_layouts_exit_2_before_any_aws_call() {
    let emulator = Emulator::start();
    let s3 = bucket(&emulator, "bad").await;
    // Every request stackctl makes goes through the proxy, which records it.
    let proxy = FaultProxy::start(
        emulator.endpoint.trim_start_matches("http://").to_owned(),
        0,
    );
    for case in [
        "no annotations",
        "wrong folder name",
        "unreadable file",
        "malformed annotation",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let want = broken_tree(&dir.path().join("coco"), case);
        let out = crate::deploy_up::stackctl_aws(
            None,
            dir.path(),
            &[
                "--endpoint-url",
                &proxy.endpoint,
                "data",
                "stage",
                "--from",
                "coco",
                "--bucket",
                "bad",
            ],
        );
        assert_eq!(out.code, 2, "{case}: {}", out.stderr);
        assert!(
            out.stderr.contains("`coco` is not a usable COCO 2017 tree"),
            "{case}: {}",
            out.stderr
        );
        assert!(
            out.stderr.contains(want),
            "{case}: {}\nwanted: {want}",
            out.stderr
        );
        assert!(
            out.stderr.contains("nothing was uploaded"),
            "{case}: {}",
            out.stderr
        );
    }
    assert!(
        proxy.captured.lock().unwrap().is_empty(),
        "stackctl called AWS"
    );
    assert!(objects(&s3, "bad").await.is_empty());

    // Flags that cannot work together are bad input too.
    let dir = tempfile::tempdir().unwrap();
    let out = stackctl_aws(
        None,
        dir.path(),
        &[
            "--endpoint-url",
            &proxy.endpoint,
            "data",
            "stage",
            "--bucket",
            "bad",
            "--to",
            "efs",
        ],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("--bucket stages to S3 only"),
        "{}",
        out.stderr
    );
    let out = stackctl_aws(
        None,
        dir.path(),
        &[
            "--endpoint-url",
            &proxy.endpoint,
            "data",
            "stage",
            "--bucket",
            "bad",
            "--to",
            "s3",
        ],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("give --from DIR"), "{}", out.stderr);
    let table = dir.path().join("t.yaml");
    fs_err::write(
        &table,
        "files:\n  - name: a.zip\n    url: ftp://x/a.zip\n    extract: true\n",
    )
    .unwrap();
    let out = stackctl_aws(
        None,
        dir.path(),
        &[
            "--endpoint-url",
            &proxy.endpoint,
            "data",
            "stage",
            "--download",
            "coco2017",
            "--archives",
            "t.yaml",
            "--bucket",
            "bad",
        ],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("archive table `t.yaml`: field `files[0].url`"),
        "{}",
        out.stderr
    );
    assert!(
        proxy.captured.lock().unwrap().is_empty(),
        "stackctl called AWS"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn stage_to_the_stack_uses_its_bucket_and_says_what_the_emulator_lacks() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let e = Some(&emulator);
    let up = stackctl_aws(e, dir.path(), &["up", "--yes"]);
    assert_eq!(up.code, 0, "{}", up.stderr);
    let files = coco_tree(&dir.path().join("coco"), 20, 5, 1_000);
    // Default --to all: S3, then EFS and FSx when the stack has them. moto drops AWS::DataSync::*
    // and AWS::FSx::* from templates (docs/testing.md), so both are reported as absent.
    let out = stackctl_aws(
        e,
        dir.path(),
        &["data", "stage", "--from", "coco", "--output", "json"],
    );
    let result = summary(&out);
    let bucket = result["bucket"].as_str().unwrap().to_owned();
    assert_eq!(result["prefix"], PREFIX);
    assert_eq!(result["s3"]["uploaded_files"], files.len());
    assert_eq!(
        result["notes"],
        serde_json::json!([
            "EFS: no DataSync task in the stack; nothing copied",
            "FSx: no file system in the stack; nothing imported"
        ])
    );
    let s3 = s3(&emulator).await;
    assert_same(&s3, &bucket, &files).await;
    // Asked for explicitly, a missing DataSync task is an error that says why.
    let out = stackctl_aws(e, dir.path(), &["data", "stage", "--to", "efs"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("has no DataSync task"),
        "{}",
        out.stderr
    );
    // `data status` says why the EFS copy is unavailable (issue 12, item 11).
    let status = stackctl_aws(e, dir.path(), &["data", "status"]);
    assert_eq!(status.code, 0, "{}", status.stderr);
    assert!(
        status
            .stdout
            .contains("EFS copy: unavailable: the stack has EFS fs-")
            && status.stdout.contains("no DataSyncTaskArn output"),
        "{}",
        status.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn other_models_stage_under_their_own_prefix_and_layout() {
    let emulator = Emulator::start();
    let s3 = bucket(&emulator, "models").await;
    let dir = tempfile::tempdir().unwrap();
    let e = Some(&emulator);
    // Object detection (seed 004): RecordIO files in train/ and validation/.
    let rec = dir.path().join("rec");
    fs_err::create_dir_all(rec.join("train")).unwrap();
    fs_err::create_dir_all(rec.join("validation")).unwrap();
    fs_err::write(rec.join("train/train.rec"), bytes(1, 70_000)).unwrap();
    fs_err::write(rec.join("validation/val.rec"), bytes(2, 30_000)).unwrap();
    let args = [
        "data",
        "stage",
        "--model",
        "object-detection",
        "--from",
        "rec",
        "--bucket",
        "models",
        "--output",
        "json",
    ];
    let out = summary(&stackctl_aws(e, dir.path(), &args));
    assert_eq!(out["prefix"], "object-detection/pascal-voc");
    assert_eq!(out["s3"]["uploaded_files"], 2);
    let keys: Vec<String> = s3
        .list_objects_v2()
        .bucket("models")
        .send()
        .await
        .unwrap()
        .contents()
        .iter()
        .map(|o| o.key().unwrap().to_owned())
        .collect();
    assert_eq!(
        keys,
        [
            "object-detection/pascal-voc/train/train.rec",
            "object-detection/pascal-voc/validation/val.rec"
        ]
    );
    let status = summary(&stackctl_aws(
        e,
        dir.path(),
        &[
            "data",
            "status",
            "--model",
            "object-detection",
            "--bucket",
            "models",
            "--output",
            "json",
        ],
    ));
    assert_eq!(status["models"][0]["model"], "object-detection");
    assert_eq!(status["models"][0]["complete"], true, "{status}");

    // Without validation/ the layout is refused, naming what is missing.
    fs_err::remove_dir_all(rec.join("validation")).unwrap();
    let bad = stackctl_aws(e, dir.path(), &args);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("missing folder `validation/`"),
        "{}",
        bad.stderr
    );

    // Detectron2 (seed 003): the COCO tree under coco/, staged to detectron2/.
    let d2 = dir.path().join("d2");
    let files = coco_tree(&d2.join("coco"), 5, 3, 100);
    let out = summary(&stackctl_aws(
        e,
        dir.path(),
        &[
            "data",
            "stage",
            "--model",
            "detectron2",
            "--from",
            "d2",
            "--bucket",
            "models",
            "--output",
            "json",
        ],
    ));
    assert_eq!(out["prefix"], "detectron2");
    assert_eq!(out["s3"]["uploaded_files"], files.len());
    s3.head_object()
        .bucket("models")
        .key("detectron2/coco/annotations/instances_train2017.json")
        .send()
        .await
        .unwrap();
    // --download builds the Mask R-CNN tree only.
    let refused = stackctl_aws(
        e,
        dir.path(),
        &[
            "data",
            "stage",
            "--model",
            "detectron2",
            "--download",
            "coco2017",
            "--bucket",
            "models",
        ],
    );
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("--prefix detectron2/coco"),
        "{}",
        refused.stderr
    );
}
