//! `stackctl image build|push`.

use crate::cli::{GlobalArgs, ImageArgs};
use crate::error::Error;
use crate::image::{self, docker_commands};
use crate::jobs::profile::Profile;
use crate::printer::Printer;

/// Builds (and with `push`, pushes) the model's image; prints its URI on stdout.
pub async fn run(
    global: &GlobalArgs,
    args: &ImageArgs,
    push: bool,
    printer: &mut Printer,
) -> Result<(), Error> {
    let (_, spec) = super::load_spec(global, printer)?;
    let model = args.model.model();
    // Bad input first: no AWS call for a model without an image.
    image::context_files(model)?;
    let profile = Profile::embedded(model).map_err(|e| Error::Job(e.to_string()))?;
    let aws = super::aws_context::connect(global, &spec).await?;
    let login = image::login(&aws.ecr).await?;
    let repository = &profile.image.repository;
    let tag = args.tag.as_deref().unwrap_or(&profile.image.tag);
    let uri = format!("{}/{repository}:{tag}", login.registry);
    let context = args
        .context
        .clone()
        .unwrap_or_else(|| format!("stackctl-image-{}", model.as_str()).into());
    let commands = docker_commands(&login.registry, &aws.region, &uri, &context, push);

    let json = super::json(global);
    // The `--output json` object (docs/json-output.md); `repository` is what happened to the
    // ECR repository: null for `build`, which does not look.
    let doc = |repository_action: Option<&str>| {
        serde_json::json!({
            "model": model.as_str(),
            "image_uri": uri,
            "registry": login.registry,
            "repository": repository,
            "tag": tag,
            "context": context,
            "push": push,
            "dry_run": args.dry_run,
            "repository_action": repository_action,
            "commands": commands.iter().map(|c| c.display(&args.docker)).collect::<Vec<_>>(),
        })
    };

    if args.dry_run {
        let mut action = None;
        if push {
            let missing =
                image::ensure_repository(&aws.ecr, repository, model.as_str(), false).await?;
            action = Some(if missing { "would_create" } else { "exists" });
            printer.status(if missing {
                format!("would create ECR repository {repository} (AES256, scan on push)")
            } else {
                format!("ECR repository {repository} exists")
            })?;
        }
        printer.status(format!(
            "would write the build context to {} (templates/images/{}/ and common/); each login reads an ECR token on stdin",
            context.display(),
            model.as_str()
        ))?;
        if json {
            return super::print_json(printer, &doc(action));
        }
        let out = printer.out();
        for command in &commands {
            writeln!(out, "{}", command.display(&args.docker))?;
        }
        return Ok(());
    }

    let mut action = None;
    if push {
        let created = image::ensure_repository(&aws.ecr, repository, model.as_str(), true).await?;
        if created {
            printer.status(format!("created ECR repository {repository}"))?;
        }
        action = Some(if created { "created" } else { "exists" });
    }
    image::write_context(model, &context)?;
    for command in &commands {
        printer.status(format!("running: {}", command.display(&args.docker)))?;
        printer.flush()?;
        image::run_docker(&args.docker, command, &login.password)?;
    }
    if json {
        return super::print_json(printer, &doc(action));
    }
    writeln!(printer.out(), "{uri}")?;
    Ok(())
}
