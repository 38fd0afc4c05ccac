//! Batches a request's loads without a timer.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::OnceCell;

/// Loads many keys at once: one domain call for a whole batch.
pub trait Load: Send + Sync + 'static {
    type Key: Send + Sync + Hash + Eq + Clone + 'static;
    type Value: Send + Sync + Clone + 'static;
    /// Shared by every field that asked for the batch.
    type Error: Send + Sync + Clone + 'static;

    /// The values found for `keys`; a key with no value is left out.
    fn load(
        &self,
        keys: &[Self::Key],
    ) -> impl Future<Output = Result<HashMap<Self::Key, Self::Value>, Self::Error>> + Send;
}

/// The most keys one call to [`Load::load`] gets; a bigger batch is loaded in parts.
const MAX_KEYS: usize = 1000;

/// How often the first field to ask for a batch yields before running it: once for its
/// siblings, once for the fields woken by the level above.
const GATHER_PASSES: usize = 2;

type Loaded<T> = Result<HashMap<<T as Load>::Key, <T as Load>::Value>, <T as Load>::Error>;

/// One batch: the keys asked for while it was open and, once run, what it found.
struct Batch<T: Load> {
    keys: Mutex<Vec<T::Key>>,
    loaded: OnceCell<Loaded<T>>,
}

/// A [`Load`] whose loads, made while a batch is open, are run together.
///
/// Fields ask with [`load_one`](Self::load_one) or [`load_many`](Self::load_many); the first
/// to ask opens a batch and yields [`GATHER_PASSES`] times to the request's task, in which
/// every sibling field adds its keys; then it closes the batch and runs it, and every asker
/// gets its values from the one result. No timer and no spawned task: a page's levels cost
/// their statements and nothing else. Nothing is cached between batches, so a long-lived
/// `Batched` (a subscription's) always reads what is current.
pub struct Batched<T: Load> {
    loader: T,
    open: Mutex<Option<Arc<Batch<T>>>>,
}

impl<T: Load> Batched<T> {
    pub fn new(loader: T) -> Self {
        Self {
            loader,
            open: Mutex::new(None),
        }
    }

    /// The value for `key`, if there is one.
    pub async fn load_one(&self, key: T::Key) -> Result<Option<T::Value>, T::Error> {
        let mut found = self.load_many(std::iter::once(key.clone())).await?;
        Ok(found.remove(&key))
    }

    /// The values found for `keys`.
    pub async fn load_many(
        &self,
        keys: impl IntoIterator<Item = T::Key>,
    ) -> Result<HashMap<T::Key, T::Value>, T::Error> {
        let keys: Vec<T::Key> = keys.into_iter().collect();
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let batch = self.join(&keys);
        let loaded = batch.loaded.get_or_init(|| self.run(&batch)).await;
        match loaded {
            Ok(values) => Ok(keys
                .into_iter()
                .filter_map(|key| values.get(&key).cloned().map(|value| (key, value)))
                .collect()),
            Err(error) => Err(error.clone()),
        }
    }

    /// The values for `keys`, loaded now as one batch of their own: for a caller that has
    /// every key in hand (a list reading what its selection shows), with nothing to gather.
    pub async fn load_now(&self, keys: &[T::Key]) -> Result<HashMap<T::Key, T::Value>, T::Error> {
        let mut values = HashMap::with_capacity(keys.len());
        for part in keys.chunks(MAX_KEYS) {
            values.extend(self.loader.load(part).await?);
        }
        Ok(values)
    }

    /// Adds `keys` to the open batch (opening one if none is), and returns it.
    fn join(&self, keys: &[T::Key]) -> Arc<Batch<T>> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let batch = open.get_or_insert_with(|| {
            Arc::new(Batch {
                keys: Mutex::new(Vec::new()),
                loaded: OnceCell::new(),
            })
        });
        // Under the `open` lock: once closed, a batch gains no key.
        batch
            .keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(keys);
        batch.clone()
    }

    /// Waits for the batch's other keys, closes it and loads them all. Should the asker
    /// running it go away, the next asker runs it again (`OnceCell`), with the same keys.
    async fn run(&self, batch: &Arc<Batch<T>>) -> Loaded<T> {
        for _ in 0..GATHER_PASSES {
            tokio::task::yield_now().await;
        }
        {
            let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
            if open
                .as_ref()
                .is_some_and(|current| Arc::ptr_eq(current, batch))
            {
                *open = None;
            }
        }
        let mut keys = batch
            .keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut seen = std::collections::HashSet::with_capacity(keys.len());
        keys.retain(|key| seen.insert(key.clone()));
        self.load_now(&keys).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use futures_util::future::join_all;

    use super::*;

    /// Doubles numbers and keeps the batches it was called with; fails on a negative one.
    #[derive(Default)]
    struct Doubler {
        calls: Mutex<Vec<Vec<i64>>>,
        running: AtomicUsize,
    }

    impl Load for Doubler {
        type Key = i64;
        type Value = i64;
        type Error = String;

        async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, i64>, String> {
            self.running.fetch_add(1, Ordering::SeqCst);
            self.calls
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(keys.to_vec());
            // A real load awaits its statement: let the other fields run meanwhile.
            tokio::task::yield_now().await;
            if let Some(key) = keys.iter().find(|key| **key < 0) {
                return Err(format!("no {key}"));
            }
            Ok(keys.iter().map(|key| (*key, key * 2)).collect())
        }
    }

    fn calls(batched: &Batched<Doubler>) -> Vec<Vec<i64>> {
        let mut calls = batched
            .loader
            .calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for call in &mut calls {
            call.sort_unstable();
        }
        calls
    }

    /// The fields of one level, asked for together, cost one load; the level their answers
    /// open costs one more; and no timer ran (the paused clock would have jumped).
    #[tokio::test(start_paused = true)]
    async fn sibling_fields_share_one_batch_per_level_without_a_timer() {
        let batched = Batched::new(Doubler::default());
        let started = tokio::time::Instant::now();
        let batched = &batched;
        let rows = join_all((1..=60).map(|n| async move {
            let first = batched.load_one(n).await?;
            let next = first.unwrap_or_default() + 1000;
            batched.load_many([next, next + 1]).await
        }))
        .await;
        assert_eq!(tokio::time::Instant::now(), started);
        assert_eq!(rows[0], Ok(HashMap::from([(1002, 2004), (1003, 2006)])));
        assert_eq!(rows[59], Ok(HashMap::from([(1120, 2240), (1121, 2242)])));
        let calls = calls(batched);
        assert_eq!(calls.len(), 2, "{calls:?}");
        assert_eq!(calls[0], (1..=60).collect::<Vec<_>>());
        // 1002..=1121: each row's two keys, shared keys asked for once.
        assert_eq!(calls[1], (1002..=1121).collect::<Vec<_>>());
    }

    /// A failed batch fails every field that asked for it, and the next batch runs afresh.
    #[tokio::test]
    async fn a_failed_batch_fails_each_asker_and_the_next_batch_runs() {
        let batched = Batched::new(Doubler::default());
        let failed = join_all([batched.load_one(1), batched.load_one(-1)]).await;
        assert_eq!(
            failed,
            vec![Err("no -1".to_owned()), Err("no -1".to_owned())]
        );
        assert_eq!(batched.load_one(1).await, Ok(Some(2)));
        assert_eq!(batched.load_many(Vec::new()).await, Ok(HashMap::new()));
        assert_eq!(calls(&batched), vec![vec![-1, 1], vec![1]]);
    }

    /// A batch bigger than one call takes is loaded in parts.
    #[tokio::test]
    async fn a_big_batch_is_loaded_in_parts() {
        let batched = Batched::new(Doubler::default());
        let keys: Vec<i64> = (0..2500).collect();
        let found = batched.load_many(keys.clone()).await;
        assert_eq!(found.map(|values| values.len()), Ok(2500));
        let sizes: Vec<usize> = calls(&batched).iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![1000, 1000, 500]);
    }

    /// Should the field running a batch go away (its request half cancelled), another asker
    /// runs the batch with the same keys.
    #[tokio::test]
    async fn a_batch_survives_the_asker_that_ran_it() {
        let batched = Batched::new(Doubler::default());
        let first = Box::pin(batched.load_one(1));
        let second = batched.load_one(2);
        let mut first = Some(first);
        let answered = futures_util::future::poll_fn(|cx| {
            // Poll the first asker once (it opens the batch and starts it), then drop it.
            if let Some(mut running) = first.take() {
                let _ = running.as_mut().poll(cx);
            }
            std::task::Poll::Ready(())
        });
        answered.await;
        assert_eq!(second.await, Ok(Some(4)));
        assert_eq!(calls(&batched), vec![vec![1, 2]]);
    }
}
