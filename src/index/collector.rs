//! Collects the email ids of the matching documents from the `key` fast field, without scoring
//! and without loading any stored document.

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

pub struct EmailIds;

pub struct SegmentIds {
    keys: Column<u64>,
    out: Vec<u32>,
}

impl Collector for EmailIds {
    type Fruit = Vec<u32>;
    type Child = SegmentIds;

    fn for_segment(
        &self,
        _: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<SegmentIds> {
        Ok(SegmentIds {
            keys: segment.fast_fields().u64("key")?,
            out: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Vec<u32>>) -> tantivy::Result<Vec<u32>> {
        Ok(fruits.into_iter().flatten().collect())
    }
}

impl SegmentCollector for SegmentIds {
    type Fruit = Vec<u32>;

    fn collect(&mut self, doc: DocId, _: Score) {
        if let Some(key) = self.keys.first(doc) {
            // The low 32 bits of the key are the email id (schema::key).
            self.out.push((key & 0xFFFF_FFFF) as u32);
        }
    }

    fn harvest(self) -> Vec<u32> {
        self.out
    }
}
