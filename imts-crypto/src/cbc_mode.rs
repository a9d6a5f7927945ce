//! AES-256-CBC with PKCS#7 on the `aes` crate's block API.
//!
//! Why not the `cbc` crate: its decryption copies every batch of ciphertext blocks to keep them for
//! the chaining XOR, and its encryption passes the chaining value through memory; on the machine of
//! issue 8 that held decryption to ~6 GB/s (VAES-512 can do several times that) and encryption to
//! 0.85 GB/s against a 1.16 GB/s serial limit. Here decryption is one parallel pass of the block
//! cipher followed by one XOR pass, and encryption keeps the chain in a register. Equality with the
//! `cbc` crate is property-tested (`tests/properties.rs`).

use aes::cipher::consts::U16;
use aes::cipher::{
    Array, BlockCipherDecrypt, BlockCipherEncBackend, BlockCipherEncClosure, BlockCipherEncrypt,
    BlockSizeUser,
};
use aes::{Aes256Dec, Aes256Enc};
use zeroize::Zeroize;

/// The AES block size, in bytes.
pub(crate) const BLOCK: usize = 16;

/// Blocks decrypted per batch when decrypting in place: the ciphertext of a batch is saved on the
/// stack first, because CBC needs each previous ciphertext block after it is overwritten.
const IN_PLACE_BATCH: usize = 64;

type Block = Array<u8, U16>;

/// Byte-wise, so it compiles to one vector XOR; going through `u128` moved the chaining value
/// between vector and general registers on every block of the serial chain (+8 cycles each).
#[inline(always)]
fn xor(mut a: [u8; BLOCK], b: [u8; BLOCK]) -> [u8; BLOCK] {
    for (a, b) in a.iter_mut().zip(b) {
        *a ^= b;
    }
    a
}

/// Encrypts `plaintext` with PKCS#7 padding into `out`, which must be exactly
/// [`padded_len`](crate::padded_len)`(plaintext.len())` bytes long (callers check).
pub(crate) fn encrypt(cipher: &Aes256Enc, iv: &[u8; BLOCK], plaintext: &[u8], out: &mut [u8]) {
    let (whole, tail) = plaintext.as_chunks::<BLOCK>();
    // PKCS#7: the last block is the tail filled up with the pad length (a whole block of 16s when
    // the plaintext is a multiple of the block size).
    let pad = (BLOCK - tail.len()) as u8;
    let mut last = [pad; BLOCK];
    last[..tail.len()].copy_from_slice(tail);
    let (out, _) = out.as_chunks_mut::<BLOCK>();
    cipher.encrypt_with_backend(Chain {
        iv: *iv,
        whole,
        last: &last,
        out,
    });
    // It held the plaintext's tail.
    last.zeroize();
}

/// The serial CBC chain, run inside the cipher's backend so the round keys and the chaining value
/// stay in registers.
struct Chain<'a> {
    iv: [u8; BLOCK],
    whole: &'a [[u8; BLOCK]],
    last: &'a [u8; BLOCK],
    out: &'a mut [[u8; BLOCK]],
}

impl BlockSizeUser for Chain<'_> {
    type BlockSize = U16;
}

impl BlockCipherEncClosure for Chain<'_> {
    #[inline(always)]
    fn call<B: BlockCipherEncBackend<BlockSize = U16>>(self, backend: &B) {
        let mut chain = self.iv;
        let inputs = self.whole.iter().chain(std::iter::once(self.last));
        for (input, output) in inputs.zip(self.out.iter_mut()) {
            let mut block = Block::from(xor(*input, chain));
            backend.encrypt_block((&mut block).into());
            chain = block.into();
            *output = chain;
        }
    }
}

/// Hardware decryption beyond what the `aes` crate reaches from a portable build (see `vaes`), when
/// this CPU has it.
#[derive(Clone, Default)]
pub(crate) struct Accelerated {
    #[cfg(target_arch = "x86_64")]
    vaes: Option<crate::vaes::DecryptKeys>,
}

impl Accelerated {
    /// Prepares `key` for the fastest decryption this CPU offers.
    pub(crate) fn new(key: &[u8; 32]) -> Self {
        Self {
            #[cfg(target_arch = "x86_64")]
            vaes: crate::vaes::DecryptKeys::new(key),
        }
    }

    /// Decrypts `buffer` in place when accelerated; `false` (nothing done) otherwise.
    fn decrypt_in_place(&self, iv: &[u8; BLOCK], buffer: &mut [u8]) -> bool {
        #[cfg(target_arch = "x86_64")]
        if let Some(vaes) = &self.vaes {
            vaes.cbc_decrypt_in_place(iv, buffer);
            return true;
        }
        let _ = (iv, buffer);
        false
    }

    /// Whether decryption is accelerated here.
    pub(crate) fn is_active(&self) -> bool {
        #[cfg(target_arch = "x86_64")]
        return self.vaes.is_some();
        #[cfg(not(target_arch = "x86_64"))]
        false
    }
}

/// Decrypts `ciphertext` (a non-empty multiple of 16 bytes, callers check) into `out` (at least as
/// long) and returns the length of the unpadded plaintext, or `None` for bad padding.
pub(crate) fn decrypt_into(
    cipher: &Aes256Dec,
    accelerated: &Accelerated,
    iv: &[u8; BLOCK],
    ciphertext: &[u8],
    out: &mut [u8],
) -> Option<usize> {
    let out = out.get_mut(..ciphertext.len())?;
    if accelerated.is_active() {
        out.copy_from_slice(ciphertext);
        accelerated.decrypt_in_place(iv, out);
        return unpadded_len(out);
    }
    let (input, _) = Block::slice_as_chunks(ciphertext);
    let (output, _) = Block::slice_as_chunks_mut(out);
    // One parallel pass of the block cipher (VAES where the CPU has it)...
    cipher.decrypt_blocks_b2b(input, output).ok()?;
    // ...then each block is XORed with the ciphertext block before it (the IV for the first).
    let previous = std::iter::once(iv).chain(input.iter().map(|block| &block.0));
    for (block, previous) in output.iter_mut().zip(previous) {
        block.0 = xor(block.0, *previous);
    }
    unpadded_len(out)
}

/// Decrypts `buffer` in place and returns the length of the unpadded plaintext at its start, or
/// `None` for bad padding. `buffer` must be a non-empty multiple of 16 bytes (callers check).
pub(crate) fn decrypt_in_place(
    cipher: &Aes256Dec,
    accelerated: &Accelerated,
    iv: &[u8; BLOCK],
    buffer: &mut [u8],
) -> Option<usize> {
    if accelerated.decrypt_in_place(iv, buffer) {
        return unpadded_len(buffer);
    }
    let (blocks, _) = Block::slice_as_chunks_mut(buffer);
    let mut saved = [Block::default(); IN_PLACE_BATCH];
    let mut previous = *iv;
    for batch in blocks.chunks_mut(IN_PLACE_BATCH) {
        let saved = &mut saved[..batch.len()];
        saved.copy_from_slice(batch);
        cipher.decrypt_blocks(batch);
        for (block, ciphertext) in batch.iter_mut().zip(saved.iter()) {
            block.0 = xor(block.0, previous);
            previous = ciphertext.0;
        }
    }
    unpadded_len(buffer)
}

/// The plaintext length after PKCS#7 unpadding, or `None` when the padding is malformed. Every
/// byte of the last block is examined whatever the pad length, so the time taken does not depend
/// on where the padding is wrong.
fn unpadded_len(blocks: &[u8]) -> Option<usize> {
    let last = blocks.last_chunk::<BLOCK>()?;
    let pad = last[BLOCK - 1];
    let mut bad = u8::from(pad == 0) | u8::from(usize::from(pad) > BLOCK);
    for (from_end, &byte) in last.iter().rev().enumerate() {
        let in_padding = from_end < usize::from(pad);
        bad |= u8::from(in_padding & (byte != pad));
    }
    (bad == 0).then(|| blocks.len() - usize::from(pad))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpadding_accepts_only_well_formed_pkcs7() {
        let mut block = [7u8; 32];
        assert_eq!(unpadded_len(&block), Some(25));
        block[31] = 16;
        assert_eq!(
            unpadded_len(&block),
            None,
            "16 claimed, only the last byte is 16"
        );
        block[16..].fill(16);
        assert_eq!(unpadded_len(&block), Some(16));
        block[31] = 0;
        assert_eq!(unpadded_len(&block), None, "a pad length of 0");
        block[31] = 17;
        assert_eq!(unpadded_len(&block), None, "a pad length above the block");
        block[30] = 1;
        block[31] = 2;
        assert_eq!(unpadded_len(&block), None, "one padding byte differs");
        assert_eq!(unpadded_len(&[]), None);
    }
}
