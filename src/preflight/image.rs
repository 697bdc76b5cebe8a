//! The training image a job would use exists in ECR: otherwise SageMaker fails the job only
//! after its instances were provisioned (and billed).
//!
//! ECR API reference, DescribeImages: `repositoryName`, `registryId` and `imageIds` (a tag or
//! a digest); a missing image answers `ImageNotFoundException`, a missing repository
//! `RepositoryNotFoundException`.

use aws_sdk_ecr::operation::describe_images::DescribeImagesError;
use aws_sdk_ecr::types::ImageIdentifier;

use super::Finding;
use crate::spec::scalars::{EcrReference, ImageUri};

/// Check name.
pub const CHECK: &str = "image";

/// Whether the image of `model` at `uri` exists.
pub async fn check(ecr: &aws_sdk_ecr::Client, model: &str, uri: &ImageUri) -> Finding {
    let Some(image) = uri.ecr() else {
        return Finding::unchecked(
            CHECK,
            format!("{model}: {uri} is not in a private ECR registry; it cannot be looked up here"),
        );
    };
    // Only the models with an image template can be pushed by stackctl.
    let push = match <crate::cli::ImageModel as clap::ValueEnum>::from_str(model, false) {
        Ok(_) => format!(
            "push it with `stackctl image push --model {model}`, or fix jobs.images.{model}"
        ),
        Err(_) => format!("push an image for {model} to ECR and name it in jobs.images.{model}"),
    };
    let (registry, repo) = (image.account, image.repository);
    let id = match image.reference {
        EcrReference::Tag(tag) => ImageIdentifier::builder().image_tag(tag).build(),
        EcrReference::Digest(digest) => ImageIdentifier::builder().image_digest(digest).build(),
    };
    match ecr
        .describe_images()
        .registry_id(registry)
        .repository_name(repo)
        .image_ids(id)
        .send()
        .await
    {
        Ok(_) => Finding::ok(CHECK, format!("{model}: {uri} exists")),
        Err(e) => match e.into_service_error() {
            DescribeImagesError::ImageNotFoundException(_) => {
                Finding::fatal(CHECK, format!("{model}: image {uri} does not exist"), push)
            }
            DescribeImagesError::RepositoryNotFoundException(_) => Finding::fatal(
                CHECK,
                format!("{model}: repository {repo} does not exist in registry {registry}"),
                push,
            ),
            other => Finding::warn(
                CHECK,
                format!("{model}: cannot look up {uri}: ecr:DescribeImages: {other}"),
                "allow ecr:DescribeImages on the repository, or check the image by hand",
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    //! Shaped like the ECR API reference's DescribeImages answers: imageDetails for an image
    //! that exists, ImageNotFoundException for a tag that does not.
    use super::*;
    use crate::preflight::Severity;
    use aws_sdk_ecr::operation::describe_images::DescribeImagesOutput;
    use aws_sdk_ecr::types::ImageDetail;
    use aws_sdk_ecr::types::error::ImageNotFoundException;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    const URI: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mask-rcnn-tensorpack";

    #[tokio::test]
    async fn a_missing_image_is_fatal_and_says_how_to_push_it() {
        let missing = mock!(aws_sdk_ecr::Client::describe_images)
            .match_requests(|r| {
                r.registry_id() == Some("123456789012")
                    && r.repository_name() == Some("mask-rcnn-tensorpack")
                    && r.image_ids()[0].image_tag() == Some("v2")
            })
            .then_error(|| {
                DescribeImagesError::ImageNotFoundException(
                    ImageNotFoundException::builder()
                        .message("The image with imageId {imageTag:'v2'} does not exist within the repository with name 'mask-rcnn-tensorpack'")
                        .build(),
                )
            });
        let present = mock!(aws_sdk_ecr::Client::describe_images)
            .match_requests(|r| r.image_ids()[0].image_tag() == Some("latest"))
            .then_output(|| {
                DescribeImagesOutput::builder()
                    .image_details(ImageDetail::builder().image_tags("latest").build())
                    .build()
            });
        let ecr = mock_client!(aws_sdk_ecr, RuleMode::MatchAny, [&missing, &present]);
        let uri = |s: &str| s.parse::<ImageUri>().unwrap();
        let f = check(&ecr, "tensorpack", &uri(&format!("{URI}:v2"))).await;
        assert_eq!(f.severity, Severity::Fatal, "{f:?}");
        assert!(
            f.fix
                .unwrap()
                .contains("stackctl image push --model tensorpack")
        );
        assert_eq!(
            check(&ecr, "tensorpack", &uri(URI)).await.severity,
            Severity::Ok
        );
        let public = check(&ecr, "detectron2", &uri("public.ecr.aws/x/y:1")).await;
        assert_eq!(public.severity, Severity::Unchecked);
    }
}
