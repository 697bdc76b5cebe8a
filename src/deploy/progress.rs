//! How far a long command got, so that an interruption (Ctrl-C) can say what it leaves
//! behind: the command owns a [`Progress`], the operation enters each stage as it reaches it,
//! and after the interruption the command reads the stage and prints what it means.

use std::marker::PhantomData;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The stages of one command, in the order it reaches them.
pub trait Stage: Copy + PartialEq + 'static {
    /// Every stage; the first is the one before anything happened.
    const ORDER: &'static [Self];
}

/// The stage a command is in (shared between the operation and the command that reads it
/// after an interruption).
#[derive(Debug)]
pub struct Progress<S: Stage> {
    at: AtomicUsize,
    stages: PhantomData<fn() -> S>,
}

impl<S: Stage> Default for Progress<S> {
    fn default() -> Self {
        Self {
            at: AtomicUsize::new(0),
            stages: PhantomData,
        }
    }
}

impl<S: Stage> Progress<S> {
    /// The stage the command is in.
    pub fn stage(&self) -> S {
        let at = self.at.load(Ordering::Relaxed);
        S::ORDER[at.min(S::ORDER.len() - 1)]
    }

    /// Enters `stage`.
    pub fn enter(&self, stage: S) {
        if let Some(at) = S::ORDER.iter().position(|s| *s == stage) {
            self.at.store(at, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Demo {
        A,
        B,
        C,
    }

    impl Stage for Demo {
        const ORDER: &'static [Self] = &[Self::A, Self::B, Self::C];
    }

    #[test]
    fn starts_at_the_first_stage_and_follows_enter() {
        let progress = Progress::<Demo>::default();
        assert_eq!(progress.stage(), Demo::A);
        progress.enter(Demo::C);
        assert_eq!(progress.stage(), Demo::C);
        progress.enter(Demo::B);
        assert_eq!(progress.stage(), Demo::B);
    }
}
