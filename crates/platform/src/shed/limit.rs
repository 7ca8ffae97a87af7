//! How many calls a process lets in at once, found from the latency of
//! the calls it serves instead of set by hand.
//!
//! A fixed limit is right for one mix of calls on one machine only: too
//! high and calls queue inside the process (for the CPU, for pooled
//! database connections), so every call admitted is slow; too low and
//! capacity is left unused. The idea is TCP Vegas's: the process's latency
//! with nothing queued (the *baseline*: the lowest round average seen in
//! the last few seconds) tells what queueing costs. Calls are looked at in
//! rounds (about as many calls as the limit). A round whose average is
//! more than `tolerance` × the baseline means calls are waiting on each
//! other: the limit shrinks in proportion. A round near the baseline that
//! used the limit grows it by about its square root, probing for room.
//! The baseline is a windowed minimum, not a moving average, so sustained
//! overload cannot teach the limiter that slow is normal; a lasting change
//! (a slower database) is learned once the window turns over.
//!
//! Admission is a counter, not a semaphore: the limit moves while calls
//! are in flight. Waiters are woken by the calls that finish.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// How the limit moves.
#[derive(Debug, Clone, Copy)]
pub struct Tuning {
    /// Never fewer than this (calls the process always serves at once).
    pub min: usize,
    /// Never more than this; also the limit when not adaptive.
    pub max: usize,
    /// Whether the limit moves at all.
    pub adaptive: bool,
    /// A round this many times slower than the baseline shrinks the limit.
    pub tolerance: f64,
    /// How long a lowest round average stays the baseline.
    pub window: Duration,
}

impl Tuning {
    /// The limit fixed at `max`.
    pub fn fixed(max: usize) -> Self {
        Self {
            min: max,
            max,
            adaptive: false,
            tolerance: 2.0,
            window: Duration::from_secs(5),
        }
    }

    /// Between `min` and `max`, starting at `max` or 64, the smaller.
    pub fn adaptive(min: usize, max: usize) -> Self {
        Self {
            min: min.clamp(1, max.max(1)),
            adaptive: true,
            ..Self::fixed(max.max(1))
        }
    }
}

/// Calls timed since the round began.
#[derive(Debug)]
struct Round {
    started: Instant,
    samples: u32,
    total: Duration,
    /// The most calls in flight seen in the round.
    busiest: usize,
}

impl Round {
    fn new(now: Instant) -> Self {
        Self {
            started: now,
            samples: 0,
            total: Duration::ZERO,
            busiest: 0,
        }
    }
}

#[derive(Debug)]
struct Learning {
    /// The limit as a real number (it moves by fractions).
    limit: f64,
    round: Round,
    /// Lowest round averages of this window and the one before.
    lowest: [Option<Duration>; 2],
    window_started: Instant,
}

/// The adaptive limit shared by every call of a process (or of one path
/// of it, like chat sends).
#[derive(Debug)]
pub struct Limiter {
    tuning: Tuning,
    in_flight: AtomicUsize,
    limit: AtomicUsize,
    freed: Notify,
    learning: Mutex<Learning>,
}

/// A turn: held while the call runs. Dropping it frees the turn; `done`
/// also teaches the limiter how long the call took.
#[derive(Debug)]
pub struct Permit {
    limiter: Arc<Limiter>,
    started: Instant,
}

impl Permit {
    /// The call finished: its latency is a sample.
    pub fn done(self) {
        let took = self.started.elapsed();
        self.limiter.learn(took);
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.limiter.in_flight.fetch_sub(1, Ordering::AcqRel);
        self.limiter.freed.notify_one();
    }
}

impl Limiter {
    pub fn new(tuning: Tuning) -> Arc<Self> {
        let now = Instant::now();
        let start = if tuning.adaptive {
            tuning.max.min(64).max(tuning.min)
        } else {
            tuning.max
        };
        Arc::new(Self {
            tuning,
            in_flight: AtomicUsize::new(0),
            limit: AtomicUsize::new(start),
            freed: Notify::new(),
            learning: Mutex::new(Learning {
                limit: start as f64,
                round: Round::new(now),
                lowest: [None, None],
                window_started: now,
            }),
        })
    }

    /// The current limit.
    pub fn limit(&self) -> usize {
        self.limit.load(Ordering::Acquire)
    }

    /// A turn if one is free now.
    pub fn try_acquire(self: &Arc<Self>) -> Option<Permit> {
        let limit = self.limit();
        self.in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < limit).then_some(n + 1)
            })
            .ok()
            .map(|_| Permit {
                limiter: self.clone(),
                started: Instant::now(),
            })
    }

    /// A turn, waiting at most `wait` for one; `None` when none came.
    pub async fn acquire(self: &Arc<Self>, wait: Duration) -> Option<Permit> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Registered before the check, so a turn freed in between wakes it.
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            if let Some(permit) = self.try_acquire() {
                return Some(permit);
            }
            if tokio::time::timeout_at(deadline, freed).await.is_err() {
                return self.try_acquire();
            }
        }
    }

    fn learn(&self, took: Duration) {
        if !self.tuning.adaptive {
            return;
        }
        let Ok(mut guard) = self.learning.lock() else {
            return;
        };
        let learning = &mut *guard;
        let now = Instant::now();
        let in_flight = self.in_flight.load(Ordering::Acquire);
        let round = &mut learning.round;
        round.samples += 1;
        round.total += took;
        round.busiest = round.busiest.max(in_flight);
        // A round: about as many calls as the limit (at least 16, so one
        // slow call does not decide), or a quarter second.
        let enough = f64::from(round.samples) >= learning.limit.max(16.0);
        if !enough && now.duration_since(round.started) < Duration::from_millis(250) {
            return;
        }
        let average = round.total / round.samples;
        let busiest = round.busiest;
        learning.round = Round::new(now);
        if now.duration_since(learning.window_started) >= self.tuning.window {
            learning.lowest = [None, learning.lowest[0]];
            learning.window_started = now;
        }
        let lowest = learning.lowest[0].map_or(average, |l| l.min(average));
        learning.lowest[0] = Some(lowest);
        let baseline = learning.lowest[1].map_or(lowest, |l| l.min(lowest));
        let limit = learning.limit;
        let slower = average.as_secs_f64() / baseline.as_secs_f64().max(1e-6);
        let next = if slower > self.tuning.tolerance {
            // Queueing: shrink in proportion, at most by half a round.
            limit * (self.tuning.tolerance / slower).max(0.5)
        } else if busiest as f64 >= limit * 0.5 {
            // Used and fast: probe for more room.
            limit + limit.sqrt()
        } else {
            limit
        };
        let next = next.clamp(self.tuning.min as f64, self.tuning.max as f64);
        learning.limit = next;
        self.limit.store(next.round() as usize, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `n` calls of latency `took` each, `in_flight` at once.
    fn feed(limiter: &Arc<Limiter>, n: usize, in_flight: usize, took: Duration) {
        for _ in 0..n {
            let held: Vec<Permit> = (0..in_flight)
                .filter_map(|_| limiter.try_acquire())
                .collect();
            limiter.learn(took);
            drop(held);
        }
    }

    #[test]
    fn queueing_shrinks_the_limit_and_a_fast_busy_process_grows_it() {
        let limiter = Limiter::new(Tuning::adaptive(2, 256));
        assert_eq!(limiter.limit(), 64);
        // Fast while busy: the baseline.
        feed(&limiter, 400, 8, Duration::from_millis(1));
        // Six times slower: calls queue; the limit comes down to the floor.
        feed(&limiter, 4_000, 8, Duration::from_millis(6));
        let shrunk = limiter.limit();
        assert!(shrunk < 16, "queueing left the limit at {shrunk}");
        // Fast again with every turn in use: it grows back.
        feed(&limiter, 4_000, 256, Duration::from_millis(1));
        assert!(
            limiter.limit() > 64,
            "stayed at {} after {shrunk}",
            limiter.limit()
        );
    }

    #[test]
    fn an_idle_process_keeps_its_limit_and_bounds_hold() {
        let limiter = Limiter::new(Tuning::adaptive(3, 40));
        feed(&limiter, 2_000, 1, Duration::from_millis(1));
        assert_eq!(
            limiter.limit(),
            40,
            "never above max, never moved when idle"
        );
        feed(&limiter, 20_000, 4, Duration::from_secs(1));
        feed(&limiter, 200, 4, Duration::from_millis(1));
        assert!(limiter.limit() >= 3, "never below min");
        let fixed = Limiter::new(Tuning::fixed(5));
        feed(&fixed, 2_000, 5, Duration::from_secs(1));
        assert_eq!(fixed.limit(), 5);
    }

    #[tokio::test]
    async fn turns_are_never_more_than_the_limit_and_waiters_get_freed_ones() {
        let limiter = Limiter::new(Tuning::fixed(3));
        let held: Vec<Permit> = (0..3).filter_map(|_| limiter.try_acquire()).collect();
        assert_eq!(held.len(), 3);
        assert!(limiter.try_acquire().is_none());
        assert!(limiter.acquire(Duration::from_millis(20)).await.is_none());
        let waiter = {
            let limiter = limiter.clone();
            tokio::spawn(async move { limiter.acquire(Duration::from_secs(5)).await.is_some() })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(held);
        assert!(waiter.await.unwrap(), "a freed turn went to the waiter");
        // 50 racing for 3 turns: never more than 3 in flight.
        let peak = Arc::new(AtomicUsize::new(0));
        let racers: Vec<_> = (0..50)
            .map(|_| {
                let (limiter, peak) = (limiter.clone(), peak.clone());
                tokio::spawn(async move {
                    if let Some(permit) = limiter.acquire(Duration::from_secs(5)).await {
                        let now = limiter.in_flight.load(Ordering::Acquire);
                        peak.fetch_max(now, Ordering::AcqRel);
                        tokio::time::sleep(Duration::from_millis(2)).await;
                        permit.done();
                    }
                })
            })
            .collect();
        for racer in racers {
            racer.await.unwrap();
        }
        assert!(peak.load(Ordering::Acquire) <= 3);
        assert_eq!(limiter.in_flight.load(Ordering::Acquire), 0);
    }
}
