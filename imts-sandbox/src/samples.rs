//! Sample requests the sandbox accepts, for demos and for tests of code built on the SDK: the
//! SDK's one set of fixtures (`imts_core::samples`), a valid person and company, their
//! registrations, and an on-demand transfer. The data is fictional.

pub use imts_core::samples::*;
