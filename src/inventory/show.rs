//! `sageflow inventory show`: what was understood, and what was not.
