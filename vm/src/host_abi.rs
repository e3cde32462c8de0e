//! The host interface a contract imports: every function of the `tally` import module, with its
//! name and wasm signature. This table is the contract ABI; `docs/host-abi.md` documents it.

use serde::{Deserialize, Serialize};

/// The only module a contract may import from.
pub const HOST_MODULE: &str = "tally";

/// A wasm value type used in host signatures (the host ABI only uses integers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AbiType {
    I32,
    I64,
}

use AbiType::{I32, I64};

macro_rules! host_functions {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal ( $($param:ident),* ) -> ( $($result:ident),* ); )*) => {
        /// One function of the host interface.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum HostFn {
            $( $(#[$doc])* $variant, )*
        }

        impl HostFn {
            /// Every host function, in ABI order.
            pub const ALL: &'static [HostFn] = &[$(HostFn::$variant),*];

            /// The import name under [`HOST_MODULE`].
            pub const fn name(self) -> &'static str {
                match self { $(HostFn::$variant => $name,)* }
            }

            /// Parameter types.
            pub const fn params(self) -> &'static [AbiType] {
                match self { $(HostFn::$variant => &[$($param),*],)* }
            }

            /// Result types.
            pub const fn results(self) -> &'static [AbiType] {
                match self { $(HostFn::$variant => &[$($result),*],)* }
            }
        }
    };
}

host_functions! {
    /// `input_size() -> len`: size of the call's input (calldata).
    InputSize = "input_size"() -> (I32);
    /// `input_read(dst, offset, len)`: copy `input[offset..offset+len]` to memory at `dst`.
    InputRead = "input_read"(I32, I32, I32) -> ();
    /// `set_return(ptr, len)`: set the data returned when the entry point returns.
    SetReturn = "set_return"(I32, I32) -> ();
    /// `revert(ptr, len)`: stop now, roll back, return `memory[ptr..ptr+len]` as revert data.
    Revert = "revert"(I32, I32) -> ();
    /// `gas_left() -> gas`: gas remaining after this call's own charge.
    GasLeft = "gas_left"() -> (I64);
    /// `keccak256(ptr, len, out)`: write the 32-byte keccak-256 of `memory[ptr..ptr+len]` to `out`.
    Keccak256 = "keccak256"(I32, I32, I32) -> ();
    /// `storage_read(key, out)`: read the 32-byte slot at the 32-byte key.
    StorageRead = "storage_read"(I32, I32) -> ();
    /// `storage_write(key, value)`: write the 32-byte value to the 32-byte key.
    StorageWrite = "storage_write"(I32, I32) -> ();
    /// `caller(out)`: the 20-byte address of the caller.
    Caller = "caller"(I32) -> ();
    /// `address(out)`: the 20-byte address of the running contract.
    Address = "address"(I32) -> ();
    /// `call_value(out)`: the value sent with this call, 32-byte big-endian.
    CallValue = "call_value"(I32) -> ();
    /// `balance(addr, out)`: the balance of a 20-byte address, 32-byte big-endian.
    Balance = "balance"(I32, I32) -> ();
    /// `transfer(addr, value) -> status`: send value to an address; 0 on success, 1 if the balance
    /// is too low.
    Transfer = "transfer"(I32, I32) -> (I32);
    /// `block_number() -> n`.
    BlockNumber = "block_number"() -> (I64);
    /// `block_timestamp() -> seconds`.
    BlockTimestamp = "block_timestamp"() -> (I64);
    /// `chain_id() -> id`.
    ChainId = "chain_id"() -> (I64);
    /// `base_fee(out)`: the block's base fee per gas, 32-byte big-endian.
    BaseFee = "base_fee"(I32) -> ();
    /// `block_producer(out)`: the 20-byte address of the block producer.
    BlockProducer = "block_producer"(I32) -> ();
    /// `emit_log(topics, topic_count, data, data_len)`: emit a log with up to 4 32-byte topics.
    EmitLog = "emit_log"(I32, I32, I32, I32) -> ();
    /// `call(addr, value, gas, input, input_len) -> status`: call another contract;
    /// 0 success, 1 revert, 2 failure. Its output is then readable with `return_data_*`.
    Call = "call"(I32, I32, I64, I32, I32) -> (I32);
    /// `create(code, code_len, value, input, input_len, out_addr) -> status`: deploy a contract,
    /// run its `deploy` export with the input, write its 20-byte address to `out_addr`.
    Create = "create"(I32, I32, I32, I32, I32, I32) -> (I32);
    /// `return_data_size() -> len`: size of the output of the last `call`/`create`.
    ReturnDataSize = "return_data_size"() -> (I32);
    /// `return_data_read(dst, offset, len)`: copy part of the last output to memory.
    ReturnDataRead = "return_data_read"(I32, I32, I32) -> ();
}

impl HostFn {
    /// Looks up a host function by its import name.
    pub fn from_name(name: &str) -> Option<HostFn> {
        HostFn::ALL.iter().copied().find(|f| f.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        for f in HostFn::ALL {
            assert_eq!(HostFn::from_name(f.name()), Some(*f));
            let json = serde_json::to_string(f).unwrap();
            assert_eq!(json, format!("\"{}\"", f.name()));
        }
        assert_eq!(HostFn::from_name("nope"), None);
    }
}
