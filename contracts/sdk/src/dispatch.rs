//! Macros: the selector dispatcher, events and compile-time selectors.

/// Routes the call's input to a function by its 4-byte selector, decodes its arguments, calls
/// it and ABI-encodes what it returns as the return data. Use it as the body of the `call`
/// entry point:
///
/// ```ignore
/// #[no_mangle]
/// pub extern "C" fn call() {
///     tally_sdk::dispatch! {
///         receive => on_receive;                          // optional: empty calldata
///         fn balanceOf(Address) => balance_of;            // selector of "balanceOf(address)"
///         fn transfer(Address, U256) => transfer;
///         fn deposit() payable => deposit;                // may receive value
///     }
/// }
/// ```
///
/// Each selector is computed at compile time from the name and the ABI names of the argument
/// types. A function that is not marked `payable` reverts with `Error("non-payable")` when
/// the call carries value. Empty input goes to the `receive` handler (always payable) if there
/// is one and reverts with `Error("no receive function")` otherwise; input of 1 to 3 bytes
/// or an unknown selector reverts with `Error("unknown selector")`. The handler is any function
/// or closure taking the decoded arguments in order; it returns `()` (no return data), a value
/// or a tuple of values ([`crate::abi::EncodeArgs`]). A handler that always reverts must still
/// be declared to return `()` (a `fn`, not a closure whose type would be `!`).
#[macro_export]
macro_rules! dispatch {
    (
        $( receive => $recv:expr ; )?
        $( fn $name:ident ( $($ty:ty),* $(,)? ) $($payable:ident)? => $handler:expr ; )*
    ) => {{
        let input: &'static [u8] = $crate::env::input();
        match input.split_first_chunk::<4>() {
            None if input.is_empty() => $crate::__dispatch_receive!($($recv)?),
            None => $crate::env::revert_str("unknown selector"),
            Some((selector, args)) => {
                let selector = u32::from_be_bytes(*selector);
                $(
                    if selector == const {
                        $crate::abi::selector(
                            stringify!($name),
                            &[$(<$ty as $crate::abi::AbiType>::NAME),*],
                        )
                    } {
                        $crate::__dispatch_payable!($($payable)?);
                        #[allow(unused_mut, unused_variables)]
                        let mut decoder = $crate::abi::Decoder::new(args);
                        #[allow(clippy::unit_arg)]
                        let out = ($handler)($(decoder.next::<$ty>()),*);
                        $crate::abi::set_return_value(&out);
                    } else
                )*
                {
                    let _ = args;
                    $crate::env::revert_str("unknown selector")
                }
            }
        }
    }};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __dispatch_receive {
    () => {
        $crate::env::revert_str("no receive function")
    };
    ($recv:expr) => {
        ($recv)()
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __dispatch_payable {
    () => {
        $crate::env::non_payable()
    };
    (payable) => {};
}

/// Emits a Solidity event: the signature (topic 0 is its keccak, computed at compile time),
/// the indexed arguments (at most 3, each one word: addresses, integers, `bytes32`, `bool`),
/// then after a `;` the non-indexed arguments, ABI-encoded as the data.
///
/// ```ignore
/// emit!("Transfer(address,address,uint256)", from, to; amount);
/// ```
#[macro_export]
macro_rules! emit {
    ($signature:literal $(, $topic:expr)* ; $($data:expr),* $(,)?) => {{
        const TOPIC0: $crate::abi::Word = $crate::keccak::keccak256($signature.as_bytes());
        $crate::env::emit_log(
            &[TOPIC0 $(, $crate::abi::WordValue::to_word(&$topic))*],
            $crate::abi::encode(&($($data,)*)),
        );
    }};
}

/// Exports the contract's entry points: `call` runs the given function on every call, and
/// the optional `deploy` runs its function once, when the contract is created.
///
/// ```ignore
/// entry_points!(call = dispatch, deploy = constructor);
/// ```
#[macro_export]
macro_rules! entry_points {
    (call = $call:path $(, deploy = $deploy:path)? $(,)?) => {
        #[no_mangle]
        pub extern "C" fn call() {
            $call()
        }
        $(
            #[no_mangle]
            pub extern "C" fn deploy() {
                $deploy()
            }
        )?
    };
}

/// The selector (a big-endian `u32`) of a canonical signature, computed at compile time:
/// `selector!("transfer(address,uint256)") == 0xa9059cbb`.
#[macro_export]
macro_rules! selector {
    ($signature:literal) => {
        const { $crate::abi::selector_of($signature) }
    };
}
