"""A stock Ethereum client against `tally node`: web3.py and eth-account sign, deploy and call
the token through a standard contract object built from a standard ABI JSON, decode its
Transfer events, and check an EIP-1186 proof with py-trie, an independent Merkle-Patricia
implementation.

Usage: python token_flow.py RPC_URL TOKEN_WASM
Prints one line per check; exits non-zero on the first failure.
"""

import json
import pathlib
import sys

import rlp
from eth_account import Account
from eth_utils import keccak, to_bytes
from trie import HexaryTrie
from web3 import Web3

# Development keys 0 and 1 (the well-known anvil/hardhat keys).
OWNER_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
HOLDER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"


def check(label, condition, detail=""):
    if not condition:
        print(f"FAIL {label} {detail}")
        sys.exit(1)
    print(f"ok {label}")


def send(w3, account, tx):
    tx.setdefault("nonce", w3.eth.get_transaction_count(account.address, "pending"))
    signed = account.sign_transaction(tx)
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    return w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)


def nodes(proof):
    """py-trie takes proof nodes decoded; JSON-RPC carries them RLP-encoded."""
    return [rlp.decode(bytes(node)) for node in proof]


def main(url, wasm_path):
    w3 = Web3(Web3.HTTPProvider(url))
    check("connected", w3.is_connected())
    check("chain id", w3.eth.chain_id == 31337, w3.eth.chain_id)
    owner = Account.from_key(OWNER_KEY)
    holder = Account.from_key(HOLDER_KEY)
    abi = json.loads((pathlib.Path(__file__).parent / "token_abi.json").read_text())
    code = pathlib.Path(wasm_path).read_bytes()

    factory = w3.eth.contract(abi=abi, bytecode=code)
    deploy = factory.constructor().build_transaction({"from": owner.address})
    receipt = send(w3, owner, deploy)
    check("deploy succeeded", receipt.status == 1, receipt)
    token = w3.eth.contract(address=receipt.contractAddress, abi=abi)
    check("deployed code", w3.eth.get_code(token.address) == code)
    check("name", token.functions.name().call() == "Tally Token")
    check("owner", token.functions.owner().call() == owner.address)

    mint = token.functions.mint(owner.address, 1_000).build_transaction({"from": owner.address})
    check("mint succeeded", send(w3, owner, mint).status == 1)

    transfer = token.functions.transfer(holder.address, 250).build_transaction({"from": owner.address})
    receipt = send(w3, owner, transfer)
    check("transfer succeeded", receipt.status == 1, receipt)
    # A transfer to a new holder, as pinned in tests/examples.rs.
    check("transfer gas", receipt.gasUsed == 4_630_454, receipt.gasUsed)
    events = token.events.Transfer().process_receipt(receipt)
    check("one Transfer event", len(events) == 1, events)
    args = events[0].args
    check("event from", args["from"] == owner.address, args)
    check("event to", args["to"] == holder.address, args)
    check("event value", args["value"] == 250, args)
    check("balance of owner", token.functions.balanceOf(owner.address).call() == 750)
    check("balance of holder", token.functions.balanceOf(holder.address).call() == 250)
    logs = token.events.Transfer().get_logs(from_block=0)
    check("mint and transfer logged", [log.args["value"] for log in logs] == [1_000, 250], logs)

    # A revert surfaces as the client's contract-logic error with the reason.
    try:
        token.functions.transfer(holder.address, 10**9).call({"from": owner.address})
        check("revert raised", False)
    except Exception as error:  # web3's ContractLogicError
        check("revert reason", "transfer amount exceeds balance" in str(error), error)

    # EIP-1186: the token account and the holder's balance slot, against the state root.
    block = w3.eth.get_block("latest")
    slot = keccak(to_bytes(hexstr=holder.address).rjust(32, b"\0") + (0).to_bytes(32, "big"))
    proof = w3.eth.get_proof(token.address, [slot], block.number)
    account_rlp = HexaryTrie.get_from_proof(
        block.stateRoot, keccak(to_bytes(hexstr=token.address)), nodes(proof.accountProof)
    )
    nonce, balance, storage_root, code_hash = rlp.decode(account_rlp)
    check("account proof: nonce", int.from_bytes(nonce, "big") == proof.nonce)
    check("account proof: balance", int.from_bytes(balance, "big") == proof.balance)
    check("account proof: storage root", storage_root == bytes(proof.storageHash))
    check("account proof: code hash", code_hash == keccak(code))
    value_rlp = HexaryTrie.get_from_proof(
        storage_root, keccak(slot), nodes(proof.storageProof[0].proof)
    )
    value = int.from_bytes(rlp.decode(value_rlp), "big")
    reported = proof.storageProof[0].value
    if not isinstance(reported, int):
        reported = int.from_bytes(bytes(reported), "big")
    check("storage proof: holder balance", value == 250 == reported, (value, reported))
    print("all checks passed")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
