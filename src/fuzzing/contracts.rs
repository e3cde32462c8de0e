//! The example contracts the chain and decoder targets deploy and call (the committed builds
//! under `contracts/build/`), with the signatures of their constructors and functions.

/// One example contract.
pub struct Example {
    pub name: &'static str,
    pub code: &'static [u8],
    /// The constructor's arguments as a signature (`deploy(...)`).
    pub constructor: &'static str,
    /// For each constructor argument, the function without arguments that returns it.
    pub getters: &'static [&'static str],
    /// Every function the contract dispatches.
    pub functions: &'static [&'static str],
}

macro_rules! build {
    ($name:literal) => {
        include_bytes!(concat!("../../contracts/build/", $name, ".wasm"))
    };
}

/// The contracts whose every input must end in success or a revert (never a trap): they
/// decode their calldata with the SDK, which reverts on anything malformed.
pub const WELL_BEHAVED: &[Example] = &[
    Example {
        name: "token",
        code: build!("token"),
        constructor: "deploy(string,string,uint8)",
        getters: &["name()", "symbol()", "decimals()"],
        functions: &[
            "name()",
            "symbol()",
            "decimals()",
            "totalSupply()",
            "balanceOf(address)",
            "allowance(address,address)",
            "owner()",
            "transfer(address,uint256)",
            "approve(address,uint256)",
            "transferFrom(address,address,uint256)",
            "mint(address,uint256)",
        ],
    },
    Example {
        name: "counter",
        code: build!("counter"),
        constructor: "deploy(uint256)",
        getters: &["count()"],
        functions: &["count()", "creator()", "increment()", "add(uint256)"],
    },
    Example {
        name: "vault",
        code: build!("vault"),
        constructor: "deploy(address,uint64)",
        getters: &["token()", "lockPeriod()"],
        functions: &[
            "deposit(uint256)",
            "depositNative()",
            "withdraw(uint256)",
            "withdrawNative(uint256)",
            "token()",
            "lockPeriod()",
            "balanceOf(address)",
            "nativeBalanceOf(address)",
            "unlockTime(address)",
        ],
    },
    Example {
        name: "factory",
        code: build!("factory"),
        constructor: "deploy()",
        getters: &[],
        functions: &[
            "create(uint256)",
            "createFrom(bytes,bytes)",
            "count()",
            "instanceAt(uint256)",
            "childCodeHash()",
        ],
    },
    Example {
        name: "naive_vault",
        code: build!("naive_vault"),
        constructor: "deploy()",
        getters: &[],
        functions: &["deposit()", "withdraw()", "balanceOf(address)"],
    },
    Example {
        name: "reentrancy_attacker",
        code: build!("reentrancy_attacker"),
        constructor: "deploy(address)",
        getters: &["vault()"],
        functions: &["attack(uint256)", "reentries()", "vault()"],
    },
];

/// Contracts that trap or run out of gas on purpose (unbounded loops, recursion, memory).
pub const HOSTILE: &[Example] = &[
    Example {
        name: "hostile_loop",
        code: build!("hostile_loop"),
        constructor: "deploy()",
        getters: &[],
        functions: &[],
    },
    Example {
        name: "hostile_recursion",
        code: build!("hostile_recursion"),
        constructor: "deploy()",
        getters: &[],
        functions: &[],
    },
    Example {
        name: "hostile_memory",
        code: build!("hostile_memory"),
        constructor: "deploy()",
        getters: &[],
        functions: &[],
    },
];
