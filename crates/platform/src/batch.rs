//! Questions asked together: callers that need the same kind of answer
//! (a lookup by key) while another is being answered are answered by one
//! statement. On PostgreSQL a round trip costs more than a key lookup in it
//! (on the hosts Frevix is measured on, `SELECT 1` alone takes 0.16 ms), so
//! under load a batch of lookups costs little more than one. Nothing waits
//! to fill a batch: a lone question goes at once, and questions pile up only
//! while the askers are busy.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::{Mutex, mpsc, oneshot};

/// Questions waiting before [`AskedTogether::ask`] itself waits.
const QUEUE: usize = 4096;

/// The next batch of at most `max` items: one, waiting for it, then
/// whatever else is already queued; None once every sender is gone.
pub async fn next<T>(receiver: &Mutex<mpsc::Receiver<T>>, max: usize) -> Option<Vec<T>> {
    let mut receiver = receiver.lock().await;
    let mut batch = vec![receiver.recv().await?];
    while batch.len() < max {
        match receiver.try_recv() {
            Ok(item) => batch.push(item),
            Err(_) => break,
        }
    }
    Some(batch)
}

struct Pending<Q, A> {
    question: Q,
    reply: oneshot::Sender<A>,
}

/// Hands questions to the askers, and each caller its own answer.
pub struct AskedTogether<Q, A> {
    queue: mpsc::Sender<Pending<Q, A>>,
}

impl<Q: Send + 'static, A: Send + 'static> AskedTogether<Q, A> {
    /// `askers` tasks, each answering up to `max_batch` questions at a time
    /// with `answer`, which returns one answer per question, in order. The
    /// tasks end once every `AskedTogether` is dropped and the queue is empty.
    pub fn start<F, Fut>(
        askers: usize,
        max_batch: usize,
        answer: F,
    ) -> (Self, Vec<tokio::task::JoinHandle<()>>)
    where
        F: Fn(Vec<Q>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<A>> + Send + 'static,
    {
        let (queue, receiver) = mpsc::channel(QUEUE);
        let receiver = Arc::new(Mutex::new(receiver));
        let answer = Arc::new(answer);
        let tasks = (0..askers.max(1))
            .map(|_| tokio::spawn(ask_in_turn(receiver.clone(), max_batch, answer.clone())))
            .collect();
        (Self { queue }, tasks)
    }

    /// The answer to `question`; None once the askers are gone (shutting down).
    pub async fn ask(&self, question: Q) -> Option<A> {
        let (reply, answer) = oneshot::channel();
        self.queue.send(Pending { question, reply }).await.ok()?;
        answer.await.ok()
    }
}

async fn ask_in_turn<Q, A, F, Fut>(
    receiver: Arc<Mutex<mpsc::Receiver<Pending<Q, A>>>>,
    max_batch: usize,
    answer: Arc<F>,
) where
    F: Fn(Vec<Q>) -> Fut,
    Fut: Future<Output = Vec<A>>,
{
    while let Some(batch) = next(&receiver, max_batch.max(1)).await {
        let (questions, replies): (Vec<Q>, Vec<_>) = batch
            .into_iter()
            .map(|pending| (pending.question, pending.reply))
            .unzip();
        let answers = answer(questions).await;
        // An answer function that returned too few answers leaves the rest
        // without one: their callers hear None rather than wait forever.
        for (reply, answer) in replies.into_iter().zip(answers) {
            let _ = reply.send(answer);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn each_caller_gets_its_own_answer_and_busy_askers_batch() {
        let statements = Arc::new(AtomicUsize::new(0));
        let counted = statements.clone();
        let (asked, _tasks) = AskedTogether::start(1, 16, move |questions: Vec<u32>| {
            counted.fetch_add(1, Ordering::Relaxed);
            async move {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                questions.into_iter().map(|q| q * 10).collect::<Vec<_>>()
            }
        });
        let asked = Arc::new(asked);
        let callers: Vec<_> = (0..50_u32)
            .map(|q| {
                let asked = asked.clone();
                tokio::spawn(async move { (q, asked.ask(q).await) })
            })
            .collect();
        for caller in callers {
            let (q, answer) = caller.await.unwrap();
            assert_eq!(answer, Some(q * 10));
        }
        // 50 callers at once, one asker, at most 16 a batch: at least 4
        // statements, and far fewer than 50.
        let statements = statements.load(Ordering::Relaxed);
        assert!((4..50).contains(&statements), "{statements} statements");
    }

    #[tokio::test]
    async fn missing_answers_are_none_not_a_hang() {
        let (asked, _tasks) =
            AskedTogether::start(1, 16, |_: Vec<u32>| async move { Vec::<u32>::new() });
        assert_eq!(asked.ask(7).await, None);
    }
}
