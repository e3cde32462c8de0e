//! The example contracts (`contracts/build/`) for tests on the harness: their artifacts and
//! their Solidity interfaces (see docs/contracts.md).

#![allow(dead_code)]

use tally::testing::{Artifact, TestError};

/// The committed artifact `contracts/build/<name>.wasm`.
pub fn artifact(name: &str) -> Result<Artifact, TestError> {
    Artifact::read(format!(
        "{}/contracts/build/{name}.wasm",
        env!("CARGO_MANIFEST_DIR")
    ))
}

alloy_sol_types::sol! {
    #[sol(all_derives)]
    interface IToken {
        function name() external view returns (string);
        function symbol() external view returns (string);
        function decimals() external view returns (uint8);
        function totalSupply() external view returns (uint256);
        function balanceOf(address account) external view returns (uint256);
        function allowance(address owner, address spender) external view returns (uint256);
        function owner() external view returns (address);
        function transfer(address to, uint256 amount) external returns (bool);
        function approve(address spender, uint256 amount) external returns (bool);
        function transferFrom(address from, address to, uint256 amount) external returns (bool);
        function mint(address to, uint256 amount) external;
        event Transfer(address indexed from, address indexed to, uint256 value);
        event Approval(address indexed owner, address indexed spender, uint256 value);
    }

    #[sol(all_derives)]
    interface IVault {
        function deposit(uint256 amount) external;
        function depositNative() external payable;
        function withdraw(uint256 amount) external;
        function withdrawNative(uint256 amount) external;
        function token() external view returns (address);
        function lockPeriod() external view returns (uint64);
        function balanceOf(address account) external view returns (uint256);
        function nativeBalanceOf(address account) external view returns (uint256);
        function unlockTime(address account) external view returns (uint64);
        event Deposit(address indexed account, address indexed asset, uint256 amount, uint64 unlockTime);
        event Withdrawal(address indexed account, address indexed asset, uint256 amount);
    }

    #[sol(all_derives)]
    interface IFactory {
        function create(uint256 initial) external payable returns (address);
        function createFrom(bytes code, bytes input) external payable returns (address);
        function count() external view returns (uint256);
        function instanceAt(uint256 index) external view returns (address);
        function childCodeHash() external view returns (bytes32);
        event Created(address indexed instance, address indexed creator, uint256 index);
    }

    #[sol(all_derives)]
    interface ICounter {
        function count() external view returns (uint256);
        function creator() external view returns (address);
        function increment() external;
        function add(uint256 amount) external;
        event Incremented(address indexed by, uint256 count);
    }

    #[sol(all_derives)]
    interface INaiveVault {
        function deposit() external payable;
        function withdraw() external;
        function balanceOf(address account) external view returns (uint256);
    }

    #[sol(all_derives)]
    interface IReentrancyAttacker {
        function attack(uint256 rounds) external payable returns (uint256);
        function reentries() external view returns (uint256);
        function vault() external view returns (address);
    }

    #[sol(all_derives)]
    interface IKernel {
        function run(uint256 n) external view returns (uint256);
    }
}

/// `amount` as a `uint256`.
pub fn amount(n: u64) -> alloy_primitives::U256 {
    alloy_primitives::U256::from(n)
}

/// `token.mint(to, amount)`.
pub fn mint(to: alloy_primitives::Address, n: u64) -> IToken::mintCall {
    IToken::mintCall {
        to,
        amount: amount(n),
    }
}

/// `token.transfer(to, amount)`.
pub fn transfer(to: alloy_primitives::Address, n: u64) -> IToken::transferCall {
    IToken::transferCall {
        to,
        amount: amount(n),
    }
}

/// `token.balanceOf(account)`.
pub fn balance_of(account: alloy_primitives::Address) -> IToken::balanceOfCall {
    IToken::balanceOfCall { account }
}
