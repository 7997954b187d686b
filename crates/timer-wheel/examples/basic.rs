//! A runtime-style loop on a virtual clock: park until `next_deadline()`, advance, handle
//! what fired, re-arm a periodic timer, cancel one that is no longer needed.
//!
//! Run: `cargo run -p timer-wheel --example basic`

use timer_wheel::TimerWheel;

const MS: u64 = 1_000_000;

#[derive(Debug)]
enum Event {
    Tick(u32),
    Timeout(&'static str),
}

fn main() {
    // 2^20 ns ≈ 1.05 ms ticks (the default); time is ns since our virtual start.
    let mut wheel = TimerWheel::new();
    wheel.insert(250 * MS, Event::Tick(1));
    let request = wheel.insert(5_000 * MS, Event::Timeout("request"));
    wheel.insert(600 * MS, Event::Timeout("handshake"));
    wheel.insert(
        20 * 24 * 3600 * 1_000 * MS,
        Event::Timeout("lease, 20 days out"),
    );

    let mut now = 0;
    let mut wakeups = 0;
    while let Some(deadline) = wheel.next_deadline() {
        // A real runtime would park until `deadline` (or an I/O event) here.
        now = now.max(deadline);
        wakeups += 1;
        let mut fired = Vec::new();
        wheel.advance(now, |event| fired.push(event));
        for event in fired {
            println!("{:>16.3} ms  {event:?}", now as f64 / MS as f64);
            match event {
                Event::Tick(n) if n < 4 => {
                    wheel.insert(now + 250 * MS, Event::Tick(n + 1));
                }
                Event::Tick(_) => {
                    // The work the request guarded is done: cancel its timeout.
                    let cancelled = wheel.cancel(request);
                    println!("                  cancelled {cancelled:?}");
                }
                Event::Timeout(what) => println!("                  {what} timed out"),
            }
        }
    }
    let stats = wheel.stats();
    println!(
        "done after {wakeups} wake-ups; {} fired, {} cascaded, {} slots processed",
        stats.fired, stats.entries_cascaded, stats.slots_processed
    );
}
