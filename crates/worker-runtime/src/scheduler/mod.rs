//! The scheduler: the state every worker shares ([`shared`]), the worker run loop ([`worker`]),
//! the wake throttle and the parking protocol ([`idle`]), and the workers' stealable FIFO queues
//! ([`queue`]).

pub(crate) mod idle;
pub(crate) mod queue;
pub(crate) mod shared;
pub(crate) mod worker;
#[cfg(all(test, not(loom)))]
mod worker_tests;
