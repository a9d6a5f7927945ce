//! AES-256-CBC decryption with VAES-512: 32 blocks in flight, in place, no copies.
//!
//! Why this exists: the `aes` crate (0.9.4) does detect VAES-512 at run time, but its batch loads
//! go through `Array::from_fn` with a closure that cannot be inlined into code compiled without
//! those target features, so each 64-byte load becomes a call. Decryption then ran at ~6 GB/s here,
//! against ~16 GB/s for the same crate built with `-C target-cpu=native` (which a library cannot
//! ask of its users). This module is the only `unsafe` code of the library crates; it runs only
//! after `is_x86_feature_detected!` said yes, and is property-tested against the `cbc` crate
//! (`tests/properties.rs`) on the machines where it runs. Everything else uses the portable path.
#![allow(unsafe_code)]

use core::arch::x86_64::{
    __m128i, __m512i, _mm512_aesdec_epi128, _mm512_aesdeclast_epi128, _mm512_broadcast_i32x4,
    _mm512_loadu_si512, _mm512_storeu_si512, _mm512_xor_si512, _mm_aesimc_si128,
    _mm_aeskeygenassist_si128, _mm_loadu_si128, _mm_shuffle_epi32, _mm_slli_si128,
    _mm_storeu_si128, _mm_xor_si128,
};

use zeroize::Zeroize;

const BLOCK: usize = 16;
/// Bytes per 512-bit register: four blocks.
const LANE: usize = 64;
/// Registers decrypted together: enough independent work to keep both AES units busy.
const WIDE: usize = 8;

/// The 15 round keys of the equivalent inverse cipher, as bytes (wiped on drop).
#[derive(Clone)]
pub(crate) struct DecryptKeys([[u8; BLOCK]; 15]);

impl Drop for DecryptKeys {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl DecryptKeys {
    /// The keys for `key`, or `None` when this CPU lacks VAES-512 (use the portable path).
    pub(crate) fn new(key: &[u8; 32]) -> Option<Self> {
        if !(std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("vaes")
            && std::arch::is_x86_feature_detected!("aes"))
        {
            return None;
        }
        // SAFETY: the three target features were detected just above.
        Some(unsafe { expand(key) })
    }

    /// Decrypts `buffer` (whole blocks) in place in CBC mode under `iv`.
    pub(crate) fn cbc_decrypt_in_place(&self, iv: &[u8; BLOCK], buffer: &mut [u8]) {
        // SAFETY: a `DecryptKeys` exists only where `new` detected the target features.
        unsafe { cbc_decrypt(&self.0, iv, buffer) }
    }
}

fn load128(bytes: &[u8; BLOCK]) -> __m128i {
    // SAFETY: `bytes` is 16 readable bytes; the load is unaligned.
    unsafe { _mm_loadu_si128(bytes.as_ptr().cast()) }
}

fn store128(bytes: &mut [u8; BLOCK], value: __m128i) {
    // SAFETY: `bytes` is 16 writable bytes; the store is unaligned.
    unsafe { _mm_storeu_si128(bytes.as_mut_ptr().cast(), value) }
}

/// One half-step of the AES-256 key schedule (Intel's AES-NI white paper, figure 26).
#[target_feature(enable = "sse2")]
fn schedule_step(previous: __m128i, assist: __m128i) -> __m128i {
    let mut key = previous;
    key = _mm_xor_si128(key, _mm_slli_si128::<4>(key));
    key = _mm_xor_si128(key, _mm_slli_si128::<4>(key));
    key = _mm_xor_si128(key, _mm_slli_si128::<4>(key));
    _mm_xor_si128(key, assist)
}

#[target_feature(enable = "aes,sse2")]
fn expand(key: &[u8; 32]) -> DecryptKeys {
    let mut round = [load128(&[0; BLOCK]); 15];
    let mut low: [u8; BLOCK] = std::array::from_fn(|i| key[i]);
    let mut high: [u8; BLOCK] = std::array::from_fn(|i| key[BLOCK + i]);
    round[0] = load128(&low);
    round[1] = load128(&high);
    // Even round keys take the RotWord/SubWord/Rcon step, odd ones the SubWord step.
    macro_rules! even {
        ($i:literal, $rcon:literal) => {
            let assist = _mm_aeskeygenassist_si128::<$rcon>(round[$i - 1]);
            round[$i] = schedule_step(round[$i - 2], _mm_shuffle_epi32::<0xff>(assist));
        };
    }
    macro_rules! odd {
        ($i:literal) => {
            let assist = _mm_aeskeygenassist_si128::<0>(round[$i - 1]);
            round[$i] = schedule_step(round[$i - 2], _mm_shuffle_epi32::<0xaa>(assist));
        };
    }
    even!(2, 0x01);
    odd!(3);
    even!(4, 0x02);
    odd!(5);
    even!(6, 0x04);
    odd!(7);
    even!(8, 0x08);
    odd!(9);
    even!(10, 0x10);
    odd!(11);
    even!(12, 0x20);
    odd!(13);
    even!(14, 0x40);
    // The equivalent inverse cipher: keys in reverse, InvMixColumns on the middle ones.
    let mut keys = DecryptKeys([[0; BLOCK]; 15]);
    for (i, out) in keys.0.iter_mut().enumerate() {
        let key = round[14 - i];
        store128(
            out,
            if i == 0 || i == 14 {
                key
            } else {
                _mm_aesimc_si128(key)
            },
        );
    }
    round = [load128(&[0; BLOCK]); 15];
    std::hint::black_box(&round);
    low.zeroize();
    high.zeroize();
    keys
}

/// Loads the 64 bytes at `at` (bounds-checked).
fn load512(bytes: &[u8], at: usize) -> __m512i {
    let chunk: &[u8; LANE] = bytes[at..at + LANE].try_into().unwrap_or(&[0; LANE]);
    // SAFETY: `chunk` is 64 readable bytes; the load is unaligned.
    unsafe { _mm512_loadu_si512(chunk.as_ptr().cast()) }
}

/// Stores 64 bytes at `at` (bounds-checked).
fn store512(bytes: &mut [u8], at: usize, value: __m512i) {
    let chunk: &mut [u8; LANE] = match (&mut bytes[at..at + LANE]).try_into() {
        Ok(chunk) => chunk,
        Err(_) => return,
    };
    // SAFETY: `chunk` is 64 writable bytes; the store is unaligned.
    unsafe { _mm512_storeu_si512(chunk.as_mut_ptr().cast(), value) }
}

/// CBC decryption in place, from the end backwards: each register's previous ciphertext blocks
/// (16 bytes before it) are read before anything in front of them is overwritten, so no copy of
/// the ciphertext is needed. The first blocks that do not fill a register go through one padded
/// register on the stack.
#[target_feature(enable = "avx512f,vaes")]
fn cbc_decrypt(keys: &[[u8; BLOCK]; 15], iv: &[u8; BLOCK], buffer: &mut [u8]) {
    let round: [__m512i; 15] = keys.map(|key| _mm512_broadcast_i32x4(load128(&key)));
    let decrypt = |block: __m512i| {
        let mut block = _mm512_xor_si512(block, round[0]);
        for key in &round[1..14] {
            block = _mm512_aesdec_epi128(block, *key);
        }
        _mm512_aesdeclast_epi128(block, round[14])
    };
    let mut end = buffer.len() - buffer.len() % BLOCK;
    // Whole groups of WIDE registers, each with its previous ciphertext at `start - 16`.
    while end >= WIDE * LANE + BLOCK {
        let start = end - WIDE * LANE;
        let mut blocks = [round[0]; WIDE];
        let mut previous = [round[0]; WIDE];
        for (i, (block, previous)) in blocks.iter_mut().zip(&mut previous).enumerate() {
            let at = start + i * LANE;
            *block = _mm512_xor_si512(load512(buffer, at), round[0]);
            *previous = load512(buffer, at - BLOCK);
        }
        for key in &round[1..14] {
            for block in &mut blocks {
                *block = _mm512_aesdec_epi128(*block, *key);
            }
        }
        for (block, previous) in blocks.iter_mut().zip(previous) {
            *block = _mm512_xor_si512(_mm512_aesdeclast_epi128(*block, round[14]), previous);
        }
        for (i, block) in blocks.into_iter().enumerate() {
            store512(buffer, start + i * LANE, block);
        }
        end = start;
    }
    // Single registers.
    while end >= LANE + BLOCK {
        let start = end - LANE;
        let block = decrypt(load512(buffer, start));
        let previous = load512(buffer, start - BLOCK);
        store512(buffer, start, _mm512_xor_si512(block, previous));
        end = start;
    }
    // The first `end` bytes (at most four blocks): the IV in front, padded to one register.
    let mut head = [0u8; BLOCK + LANE];
    head[..BLOCK].copy_from_slice(iv);
    head[BLOCK..BLOCK + end].copy_from_slice(&buffer[..end]);
    let block = decrypt(load512(&head, BLOCK));
    let plain = _mm512_xor_si512(block, load512(&head, 0));
    store512(&mut head, BLOCK, plain);
    buffer[..end].copy_from_slice(&head[BLOCK..BLOCK + end]);
    head.zeroize();
}
