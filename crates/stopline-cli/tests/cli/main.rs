//! The `stopline` binary as its users drive it: real processes, a real config file, a real store,
//! and real peers started on loopback (Alertmanager, a D-Bus notification server, the OS keyring).
//! One test binary; each module is one area of the product.

mod support;

mod calendar;
mod config;
mod desk;
mod durability;
mod hostile;
mod hub;
mod outbox;
mod paging;
mod reach;
mod report;
mod serve;
mod swarm;
mod team;
