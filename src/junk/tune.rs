//! An offline check of the statistics on the SpamAssassin corpus (tests/setup/spam-corpus.sh),
//! without a server: `cargo test --lib junk::tune -- --ignored --nocapture` prints the share of
//! held-out spam and ham at or above each threshold, for tuning `[junk] threshold`. The figure
//! that counts is the server's, from `make bench`.

#[cfg(test)]
mod tests {
    use crate::junk::{classifier, model, tokenizer};
    use std::collections::HashMap;

    fn load(folder: &str) -> Vec<Vec<u8>> {
        let dir = std::path::Path::new("target/spam-corpus/package/data").join(folder);
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        names.retain(|p: &std::path::PathBuf| p.extension().is_some_and(|x| x == "txt"));
        names.sort();
        names
            .iter()
            .filter_map(|p| std::fs::read(p).ok())
            .map(|raw| match raw.iter().position(|&b| b == b'\n') {
                Some(i) if raw.starts_with(b"From ") => raw[i + 1..].to_vec(),
                _ => raw,
            })
            .collect()
    }

    fn shuffle(v: &mut [Vec<u8>], seed: u64) {
        let mut x = seed.max(1);
        for i in (1..v.len()).rev() {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            let j = (x.wrapping_mul(0x2545_F491_4F6C_DD1D) % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }

    #[test]
    #[ignore]
    fn thresholds_on_the_corpus() {
        let mut ham: Vec<Vec<u8>> = ["easy-ham-1", "easy-ham-2", "hard-ham-1"]
            .iter()
            .flat_map(|f| load(f))
            .collect();
        let hard: Vec<Vec<u8>> = load("hard-ham-1");
        let mut spam: Vec<Vec<u8>> = ["spam-1", "spam-2"].iter().flat_map(|f| load(f)).collect();
        if ham.is_empty() || spam.is_empty() {
            eprintln!("no corpus");
            return;
        }
        // Shuffled with a fixed seed, as the bench does (not the same draw).
        shuffle(&mut ham, 17);
        shuffle(&mut spam, 18);
        let test_ham: Vec<_> = ham.split_off(600);
        let test_spam: Vec<_> = spam.split_off(400);
        let mut counts: HashMap<u64, (u32, u32)> = HashMap::new();
        for m in &spam {
            for t in tokenizer::tokenize(m) {
                counts.entry(t).or_default().0 += 1;
            }
        }
        for m in &ham {
            for t in tokenizer::tokenize(m) {
                counts.entry(t).or_default().1 += 1;
            }
        }
        let totals = model::Totals {
            spam: spam.len() as u32,
            ham: ham.len() as u32,
        };
        let score = |m: &[u8]| {
            let mut p: Vec<f64> = tokenizer::tokenize(m)
                .iter()
                .filter_map(|t| {
                    let (s, h) = counts.get(t).copied().unwrap_or_default();
                    model::probability(model::TokenCounts { spam: s, ham: h }, totals)
                })
                .collect();
            classifier::combine(&mut p).unwrap_or(0.5)
        };
        let hs: Vec<f64> = test_ham.iter().map(|m| score(m)).collect();
        let ss: Vec<f64> = test_spam.iter().map(|m| score(m)).collect();
        for th in [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 0.99] {
            let h = hs.iter().filter(|&&s| s >= th).count();
            let s = ss.iter().filter(|&&s| s >= th).count();
            eprintln!(
                "threshold {th:.2}: spam {:.1} %  ham {:.2} % ({h})",
                100.0 * s as f64 / ss.len() as f64,
                100.0 * h as f64 / hs.len() as f64
            );
        }
        let hard_test: Vec<&Vec<u8>> = test_ham.iter().filter(|m| hard.contains(m)).collect();
        let hard_hit = hard_test.iter().filter(|m| score(m) >= 0.9).count();
        eprintln!(
            "hard_ham held out: {} of {} at 0.9",
            hard_hit,
            hard_test.len()
        );
    }
}
