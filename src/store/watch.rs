//! What a background task that follows the store waits for (the junk trainer, the quota
//! warner): a committed change of one data type in some account, or a poll when nothing came
//! for a while. The poll catches what a full listener channel dropped (`Store::subscribe` is
//! bounded, so a slow task never holds up the commit thread).

use super::model::{AccountId, DataType};
use super::{StateChange, Store};
use futures_lite::FutureExt;
use std::time::Duration;

pub enum Wake {
    /// A commit touched `ty` in this account.
    Changed(AccountId),
    /// Nothing came within the poll interval: look at everything.
    Poll,
}

pub struct Watch {
    rx: async_channel::Receiver<StateChange>,
    ty: DataType,
    poll: Duration,
}

impl Watch {
    pub fn new(store: &Store, ty: DataType, poll: Duration) -> Watch {
        Watch {
            rx: store.subscribe(1024),
            ty,
            poll,
        }
    }

    /// The next wake-up; `None` once the store is gone (the task ends).
    pub async fn next(&self) -> Option<Wake> {
        loop {
            let next = async { Some(self.rx.recv().await) }
                .or(async {
                    smol::Timer::after(self.poll).await;
                    None
                })
                .await;
            match next {
                Some(Ok(change)) if change.types.contains(&self.ty) => {
                    return Some(Wake::Changed(change.account));
                }
                Some(Ok(_)) => {}
                Some(Err(_)) => return None,
                None => return Some(Wake::Poll),
            }
        }
    }
}
