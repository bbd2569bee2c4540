// Rust guest for the instrumentation tests (built with rustc 1.63, no crates): formatting,
// sorting, collections and float parsing pull in a large part of std, so the module is
// a realistic ~200 KB; every export returns a checksum the test compares.
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::hash::BuildHasherDefault;

static mut COUNTER: u32 = 0;

fn fnv(bytes: &[u8]) -> u32 {
    let mut h: u32 = 2166136261;
    for b in bytes {
        h = (h ^ *b as u32).wrapping_mul(16777619);
    }
    h
}

#[no_mangle]
pub extern "C" fn bump() -> u32 {
    unsafe {
        COUNTER += 1;
        COUNTER
    }
}

#[no_mangle]
pub extern "C" fn fmt_checksum(n: u32) -> u32 {
    let mut s = String::new();
    for i in 0..n {
        let f = i as f64 / 7.0;
        write!(s, "{} {:?} {:.3} {:x} {:>8} {:e} {:?}|", i, (i, i * 2), f, i * 31, i, f as f32, Some(f)).unwrap();
    }
    fnv(s.as_bytes())
}

#[no_mangle]
pub extern "C" fn sort_checksum(n: u32, seed: u32) -> u32 {
    let mut x = seed;
    let mut v: Vec<u32> = (0..n)
        .map(|_| {
            x = x.wrapping_mul(1103515245).wrapping_add(12345);
            x >> 8
        })
        .collect();
    v.sort_unstable();
    let mut words: Vec<String> = v.iter().take(500).map(|x| format!("{:o}", x)).collect();
    words.sort();
    let mut h = fnv(words.join(",").as_bytes());
    for x in v {
        h = (h ^ x).wrapping_mul(16777619);
    }
    h
}

/// Store-heavy: n pseudo-random 32-bit stores into a 256 KiB buffer, then its checksum.
#[no_mangle]
pub extern "C" fn stores(n: u32, seed: u32) -> u32 {
    let mut a = vec![0u32; 65536];
    let mut x = seed;
    for _ in 0..n {
        x = x.wrapping_mul(1103515245).wrapping_add(12345);
        a[((x >> 8) & 65535) as usize] = x;
    }
    let mut h: u32 = 2166136261;
    for e in a {
        h = (h ^ e).wrapping_mul(16777619);
    }
    h
}

#[no_mangle]
pub extern "C" fn maps(n: u32) -> u32 {
    let mut hm: HashMap<u32, u32, BuildHasherDefault<DefaultHasher>> = HashMap::default();
    let mut bt = BTreeMap::new();
    for i in 0..n {
        *hm.entry(i % 97).or_insert(0) += i;
        bt.insert(format!("k{}", i % 211), i);
    }
    let mut h: u32 = 0;
    for (k, v) in &hm {
        h = h.wrapping_add(k.wrapping_mul(*v));
    }
    for (k, v) in &bt {
        h = (h ^ fnv(k.as_bytes())).wrapping_add(*v);
    }
    h
}

#[no_mangle]
pub extern "C" fn parse_floats(n: u32) -> f64 {
    let mut acc = 0.0;
    for i in 0..n {
        let text = format!("{}.{}e-{}", i, i % 10, i % 5);
        acc += text.parse::<f64>().unwrap_or(0.0);
        acc += format!("{}", i * 3).parse::<u64>().unwrap_or(0) as f64;
    }
    acc
}

#[no_mangle]
pub extern "C" fn sum(n: u64) -> u64 {
    let mut s: u64 = 0;
    let mut x: u64 = 88172645463325252;
    for _ in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s = s.wrapping_add(x & 0xff);
    }
    s
}

#[no_mangle]
pub extern "C" fn spin(limit: u32) -> u32 {
    let mut i: u32 = 0;
    while unsafe { std::ptr::read_volatile(&i) } != limit {
        i += 1;
    }
    i
}

#[no_mangle]
pub extern "C" fn grow(pages: usize) -> isize {
    match core::arch::wasm32::memory_grow(0, pages) {
        usize::MAX => -1,
        before => before as isize,
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Shape {
    Circle { r: f64 },
    Rect { w: f64, h: f64 },
    Named(String, Vec<u8>),
}

#[no_mangle]
pub extern "C" fn text(n: u32) -> u32 {
    let mut shapes = Vec::new();
    for i in 0..n {
        shapes.push(match i % 3 {
            0 => Shape::Circle { r: i as f64 * 0.5 },
            1 => Shape::Rect { w: i as f64, h: (n - i) as f64 },
            _ => Shape::Named(format!("ßhäpe-{}-ǅ", i), vec![i as u8; (i % 5) as usize]),
        });
    }
    let pretty = format!("{:#?}", shapes);
    let upper = pretty.to_uppercase();
    let lower = upper.to_lowercase();
    let words: Vec<&str> = lower.split_whitespace().filter(|w| w.chars().any(char::is_alphabetic)).collect();
    let found = lower.matches("hape").count() + lower.rfind('ǆ').unwrap_or(0);
    let escaped: String = words.iter().take(50).map(|w| w.escape_debug().to_string()).collect();
    fnv(upper.as_bytes()) ^ fnv(escaped.as_bytes()) ^ (found as u32) ^ (words.len() as u32)
}
