//! secp256k1 for Ethereum: the curve order bounds signatures are checked against, addresses of
//! keys, the development keys, and sender recovery.

use k256::ecdsa::SigningKey;
use k256::elliptic_curve::group::Group;
use k256::elliptic_curve::ops::{LinearCombination, Reduce};
use k256::elliptic_curve::point::DecompressPoint;
use k256::elliptic_curve::sec1::ToEncodedPoint;
use k256::elliptic_curve::subtle::Choice;
use k256::elliptic_curve::PrimeField;
use k256::{AffinePoint, FieldBytes, ProjectivePoint, Scalar};
use tally_runtime::trie::keccak256;
use tally_runtime::{H160, H256, U256};

use super::{TxDecodeError, TxField};

/// The order `n` of the secp256k1 group.
pub(super) const SECP256K1_ORDER: U256 = U256([
    0xBFD2_5E8C_D036_4141,
    0xBAAE_DCE6_AF48_A03B,
    0xFFFF_FFFF_FFFF_FFFE,
    0xFFFF_FFFF_FFFF_FFFF,
]);

/// `n / 2` (rounded down): the largest `s` EIP-2 accepts.
pub(super) const SECP256K1_HALF_ORDER: U256 = U256([
    0xDFE9_2F46_681B_20A0,
    0x5D57_6E73_57A4_501D,
    0xFFFF_FFFF_FFFF_FFFF,
    0x7FFF_FFFF_FFFF_FFFF,
]);

/// The private keys of the first ten accounts of the mnemonic
/// "test test test test test test test test test test test junk" (BIP-44 path
/// `m/44'/60'/0'/0/i`), the development accounts of anvil and hardhat. Never use them for
/// anything of value: they are public.
pub const DEV_KEYS: [&str; 10] = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
];

/// The development accounts: each key of [`DEV_KEYS`] with its address.
pub fn dev_accounts() -> Vec<(SigningKey, H160)> {
    DEV_KEYS
        .iter()
        .map(|key| {
            let key = dev_key(key);
            let address = address_of(&key);
            (key, address)
        })
        .collect()
}

fn dev_key(hex_key: &str) -> SigningKey {
    let bytes = hex::decode(hex_key.trim_start_matches("0x")).expect("DEV_KEYS are hex");
    SigningKey::from_slice(&bytes).expect("DEV_KEYS are valid secp256k1 keys")
}

/// The address of a private key: the last 20 bytes of the keccak-256 of its uncompressed
/// public key (without the `0x04` prefix).
pub fn address_of(key: &SigningKey) -> H160 {
    address_of_point(key.verifying_key().as_affine())
}

pub(super) fn address_of_point(point: &AffinePoint) -> H160 {
    let point = point.to_encoded_point(false);
    // An uncompressed SEC1 point is `0x04 || x || y`; the identity cannot be a public key.
    let coordinates = point.as_bytes().get(1..).unwrap_or_default();
    let hash = keccak256(coordinates);
    let mut address = [0u8; 20];
    address.copy_from_slice(&hash[12..]);
    H160(address)
}

pub(super) fn check_signature_values(r: U256, s: U256) -> Result<(), TxDecodeError> {
    for (value, field) in [(r, TxField::R), (s, TxField::S)] {
        if value.is_zero() {
            return Err(TxDecodeError::ZeroSignatureValue(field));
        }
        if value >= SECP256K1_ORDER {
            return Err(TxDecodeError::SignatureValueTooLarge(field));
        }
    }
    if s > SECP256K1_HALF_ORDER {
        return Err(TxDecodeError::HighS);
    }
    Ok(())
}

/// The sender of a signature whose `r` and `s` passed [`check_signature_values`].
///
/// This is the ECDSA public-key recovery of SEC 1 v2 section 4.1.6, `Q = r^-1 (s R - z G)`
/// with `R` the curve point of x coordinate `r` and y parity `y_parity`, as k256's
/// `VerifyingKey::recover_from_prehash` computes it, without the verification that function
/// runs afterwards: `Q` verifies by construction (`(z/s) G + (r/s) Q = R`), and skipping it
/// halves the cost of sender recovery. A test checks both agree on random signatures.
pub(super) fn recover_sender(
    prehash: &H256,
    y_parity: bool,
    r: U256,
    s: U256,
) -> Result<H160, TxDecodeError> {
    let r_bytes = FieldBytes::from(r.to_big_endian());
    let s_bytes = FieldBytes::from(s.to_big_endian());
    let r = Option::<Scalar>::from(Scalar::from_repr(r_bytes));
    let s = Option::<Scalar>::from(Scalar::from_repr(s_bytes));
    let big_r = Option::<AffinePoint>::from(AffinePoint::decompress(
        &r_bytes,
        Choice::from(u8::from(y_parity)),
    ));
    let (Some(r), Some(s), Some(big_r)) = (r, s, big_r) else {
        return Err(TxDecodeError::RecoveryFailed);
    };
    let r_inv = Option::<Scalar>::from(r.invert()).ok_or(TxDecodeError::RecoveryFailed)?;
    let z = <Scalar as Reduce<k256::U256>>::reduce_bytes(&FieldBytes::from(prehash.0));
    let u1 = -(r_inv * z);
    let u2 = r_inv * s;
    let q = ProjectivePoint::lincomb(
        &ProjectivePoint::GENERATOR,
        &u1,
        &ProjectivePoint::from(big_r),
        &u2,
    );
    if bool::from(q.is_identity()) {
        return Err(TxDecodeError::RecoveryFailed);
    }
    Ok(address_of_point(&q.to_affine()))
}
