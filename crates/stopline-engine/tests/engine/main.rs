//! The engine against real things: HTTP on loopback, a store on disk, a real Prometheus
//! Alertmanager, time moved by hand. One test binary; each module is one area.

mod support;

mod alertmanager;
mod api;
mod escalation;
mod review;
mod swarm;
mod webhook;
