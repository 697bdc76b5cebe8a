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

    if args.dry_run {
        if push {
            let missing =
                image::ensure_repository(&aws.ecr, repository, model.as_str(), false).await?;
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
        let out = printer.out();
        for command in &commands {
            writeln!(out, "{}", command.display(&args.docker))?;
        }
        return Ok(());
    }

    if push && image::ensure_repository(&aws.ecr, repository, model.as_str(), true).await? {
        printer.status(format!("created ECR repository {repository}"))?;
    }
    image::write_context(model, &context)?;
    for command in &commands {
        printer.status(format!("running: {}", command.display(&args.docker)))?;
        printer.flush()?;
        image::run_docker(&args.docker, command, &login.password)?;
    }
    writeln!(printer.out(), "{uri}")?;
    Ok(())
}
