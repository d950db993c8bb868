//! The mock over real HTTP on loopback: every test starts its own server on
//! a free port and talks to it with reqwest, as the mint and the widget do.
//! One binary, one module per part of the contract (issue #3), sharing
//! [`helpers`].

mod auth_checks;
mod binary;
mod chat;
mod client_tokens;
mod controls;
mod cors;
mod customers;
mod demo;
mod endpoints;
mod faults;
mod helpers;
mod input;
mod limits;
