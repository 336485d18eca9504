//! Trimming the changelog (RFC 8620 §5.2). The log keeps the newest `keep` changes of each type
//! of each account; older rows are removed and the type's low mark (`slot::TYPE_LOW`) records
//! the newest removed modseq, so `/changes` from an older state answers cannotCalculateChanges
//! instead of a wrong, partial answer. Object rows are never touched: only history goes.

use super::tables::slot;
use super::write::Writer;
use crate::store::error::Result;
use crate::store::model::DataType;
use redb::ReadableTable;

impl Writer<'_> {
    /// Keeps at most `keep` changelog rows per (account, type); returns how many went.
    pub fn trim_changes(&mut self, keep: usize) -> Result<usize> {
        let accounts: Vec<u32> = self
            .accounts
            .iter()?
            .map(|r| r.map(|(k, _)| k.value()))
            .collect::<std::result::Result<_, _>>()?;
        let mut removed = 0;
        for acct in accounts {
            for ty in DataType::ALL {
                let t = ty as u8;
                // The newest `keep` rows stay; the first row past them is the cut.
                let cut = self
                    .changes
                    .range((acct, t, 0)..=(acct, t, u64::MAX))?
                    .rev()
                    .nth(keep)
                    .transpose()?
                    .map(|(k, _)| k.value().2);
                let Some(cut) = cut else { continue };
                let mut gone = 0;
                self.changes
                    .retain_in((acct, t, 0)..=(acct, t, cut), |_, _| {
                        gone += 1;
                        false
                    })?;
                removed += gone;
                let low = super::changes::counter(&self.counters, acct, slot::TYPE_LOW + t)?;
                if cut > low {
                    self.counters.insert((acct, slot::TYPE_LOW + t), cut)?;
                }
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use crate::store::Store;
    use crate::store::model::{ChangeKind, DataType};

    #[test]
    fn trim_keeps_the_newest_and_raises_the_low_mark() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db"), 1 << 20).unwrap();
        let a = store
            .write_blocking(|w| w.create_account("u@example.org", "x", false, 0))
            .unwrap()
            .id;
        let mut seqs = Vec::new();
        for i in 0..5 {
            seqs.push(
                store
                    .write_blocking(move |w| w.log(a, DataType::Email, i, ChangeKind::Created))
                    .unwrap(),
            );
        }
        assert_eq!(store.write_blocking(|w| w.trim_changes(3)).unwrap(), 2 + 3);
        let s1 = seqs[1];
        let s0 = seqs[0];
        assert!(
            store
                .read_blocking(move |r| r.changes(a, DataType::Email, s0, 100))
                .unwrap()
                .is_none()
        );
        let c = store
            .read_blocking(move |r| r.changes(a, DataType::Email, s1, 100))
            .unwrap()
            .unwrap();
        assert_eq!(c.created, vec![2, 3, 4]);
    }
}
