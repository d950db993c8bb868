//! The mint over real HTTP on loopback, in front of a real mock Ringside
//! (behind a layer that counts and can break upstream calls). One module
//! per part of issue #4.

mod attacks;
mod cache;
mod feedback;
mod limits;
mod operations;
mod origins;
mod providers;
mod replicas;
mod resilience;
mod secrets;
mod sessions;
mod support;
mod visitors;
