//! `task_local!`: a task's value is carried across its polls on any worker, never seen by another
//! task or outside its scope, nests, and `with` / `try_with` / `get` / `sync_scope` behave as
//! tokio's.

mod common;

use common::Watchdog;
use worker_runtime::task::{self, yield_now};
use worker_runtime::Runtime;

worker_runtime::task_local! {
    static ID: u64;
    pub(crate) static NAME: String;
}

#[test]
fn each_task_sees_its_own_value_across_polls_on_any_worker() {
    let _w = Watchdog::new("each_task_sees_its_own_value_across_polls_on_any_worker");
    let rt = Runtime::builder().worker_threads(2).build().unwrap();
    let handles: Vec<_> = (0..200u64)
        .map(|i| {
            rt.spawn(ID.scope(i, async move {
                let mut threads = std::collections::HashSet::new();
                for _ in 0..20 {
                    assert_eq!(ID.get(), i);
                    threads.insert(std::thread::current().id());
                    yield_now().await;
                }
                (ID.get(), threads.len())
            }))
        })
        .collect();
    rt.block_on(async {
        for (i, h) in handles.into_iter().enumerate() {
            assert_eq!(h.await.unwrap().0, i as u64);
        }
    });
    // Outside every scope: not set, on this thread and on the workers.
    assert!(ID.try_with(|_| ()).is_err());
    let h = rt.spawn(async { ID.try_with(|v| *v).is_err() });
    assert!(rt.block_on(h).unwrap());
}

#[test]
fn scopes_nest_and_restore() {
    let rt = Runtime::builder().worker_threads(1).build().unwrap();
    rt.block_on(NAME.scope("outer".to_owned(), async {
        assert_eq!(NAME.with(|n| n.clone()), "outer");
        NAME.scope("inner".to_owned(), async {
            yield_now().await;
            assert_eq!(NAME.with(|n| n.clone()), "inner");
        })
        .await;
        assert_eq!(NAME.with(|n| n.clone()), "outer");
        let len = NAME.sync_scope("sync".to_owned(), || NAME.with(|n| n.len()));
        assert_eq!(len, 4);
        assert_eq!(NAME.with(|n| n.clone()), "outer");
        // A spawned task does not inherit the scope (as in tokio).
        let child = task::spawn(async { NAME.try_with(|_| ()).is_err() });
        assert!(child.await.unwrap());
    }));
}

#[test]
fn with_outside_a_scope_panics_with_a_message() {
    let r = std::panic::catch_unwind(|| ID.with(|v| *v));
    let msg = r.unwrap_err();
    let msg = msg.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("task-local value not set"), "{msg}");
}
