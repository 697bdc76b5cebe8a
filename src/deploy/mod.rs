//! The deploy engine: stack state, change sets, event polling, root causes, and the `up`
//! operation that ties them together.

pub mod changeset;
pub mod down;
pub mod events;
pub mod kept;
pub mod progress;
pub mod root_cause;
pub mod stack;
pub mod target;
pub mod up;
pub mod wait;

#[cfg(test)]
pub(crate) mod tests;

/// Errors of a stack operation.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// An AWS call failed.
    #[error(transparent)]
    Aws(#[from] crate::aws::AwsError),
    /// The change set needs confirmation and none was given.
    #[error("{0}: needs confirmation on a terminal, or --yes")]
    NeedsConfirmation(String),
    /// The user answered no.
    #[error("cancelled; nothing was changed")]
    Declined,
    /// The stack is in a state `up` cannot continue from.
    #[error("stack `{stack}` is {status}: {explanation}")]
    BadState {
        /// Stack name.
        stack: String,
        /// Its status.
        status: String,
        /// What to do.
        explanation: String,
    },
    /// The operation ended in a failed state.
    #[error("stack `{stack}` ended in {status}")]
    Failed {
        /// Stack name.
        stack: String,
        /// Final status.
        status: String,
    },
    /// Something that is not the stack's keeps it from being deleted.
    #[error(
        "stack `{stack}` cannot be deleted yet; what blocks it is not the stack's, so stackctl leaves it alone:\n  - {}\nRemove it and run `stackctl down` again",
        blockers.join("\n  - ")
    )]
    Blocked {
        /// Stack name.
        stack: String,
        /// One line per blocker: what, what it blocks, how to remove it.
        blockers: Vec<String>,
    },
    /// A wait of `down` reached its deadline.
    #[error("stack `{stack}`: {detail}")]
    Stuck {
        /// Stack name.
        stack: String,
        /// What was waited for, how long, and what to do.
        detail: String,
    },
}
