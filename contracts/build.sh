#!/usr/bin/env bash
# Rebuilds every contract for wasm32-unknown-unknown and copies it to build/<name>.wasm.
#
#   ./build.sh           rebuild all contracts and update build/
#   ./build.sh --check   rebuild all contracts in a temporary directory and fail if any
#                        artifact in build/ differs (or is missing, or is not built any more)
#
# The build is reproducible byte for byte: the toolchain is pinned by rust-toolchain.toml,
# the dependencies by Cargo.lock (--locked), and every code-generation flag is set here
# (CARGO_ENCODED_RUSTFLAGS replaces any RUSTFLAGS from the environment or a cargo config).
# Every example crate under examples/ is a contract; build/<crate name>.wasm is its artifact.
# `counter` is built first: `factory` embeds build/counter.wasm. The benchmark kernels
# (examples/bench_*) use the `kernel` profile (opt-level 3), the others `release` (opt-level z).
set -euo pipefail

cd "$(dirname "$0")"
here=$(pwd)

check=0
case "${1:-}" in
    "") ;;
    --check) check=1 ;;
    *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

target=wasm32-unknown-unknown
toolchain=1.95.0

# Code generation (docs/contracts.md, "Build"):
# - target-cpu=mvp plus exactly the features the Tally validator accepts (docs/vm.md); no
#   reference types, SIMD or floats from our crates;
# - a 32 KiB shadow stack instead of 1 MiB, so a contract starts with one 64 KiB page;
# - --compress-relocations: minimal LEB128 immediates (about 10% smaller code, and the MVP
#   one-byte table index of call_indirect);
# - the source path remapped, so the checkout location cannot leak into an artifact.
flags=(
    -Ctarget-cpu=mvp
    -Ctarget-feature=+mutable-globals,+sign-ext,+bulk-memory,+multivalue
    -Clink-arg=-zstack-size=32768
    -Clink-arg=--compress-relocations
    "--remap-path-prefix=$here=/contracts"
)
CARGO_ENCODED_RUSTFLAGS=$(IFS=$'\x1f'; echo "${flags[*]}")
export CARGO_ENCODED_RUSTFLAGS
export CARGO_INCREMENTAL=0
unset RUSTC_WRAPPER RUSTC_WORKSPACE_WRAPPER 2>/dev/null || true

rustc_version=$(rustc --version)
case "$rustc_version" in
    "rustc $toolchain "*) ;;
    *) echo "error: need rustc $toolchain (rust-toolchain.toml), found: $rustc_version" >&2; exit 1 ;;
esac

if [ "$check" = 1 ]; then
    target_dir=$(mktemp -d)
    trap 'rm -rf "$target_dir"' EXIT
else
    target_dir=$here/target
fi

# Contract crates: examples/<name>, counter first.
names=(counter)
for dir in examples/*/; do
    name=$(basename "$dir")
    [ "$name" = counter ] || names+=("$name")
done

profile_of() {
    case "$1" in
        bench_*) echo kernel ;;
        *) echo release ;;
    esac
}

build() { # profile, cargo arguments
    local profile=$1
    shift
    cargo build --locked --quiet --profile "$profile" --target "$target" \
        --target-dir "$target_dir" "$@"
}

size_of() {
    wc -c <"$1" | tr -d ' '
}

status=0
report() { # name, file
    printf '%-26s %7s bytes\n' "$1.wasm" "$(size_of "$2")"
}

echo "building ${#names[@]} contracts with $rustc_version"
build release -p counter
if [ "$check" = 0 ]; then
    mkdir -p build
    cp "$target_dir/$target/release/counter.wasm" build/counter.wasm
fi
for profile in release kernel; do
    packages=()
    for name in "${names[@]}"; do
        [ "$(profile_of "$name")" = "$profile" ] && packages+=(-p "$name")
    done
    build "$profile" "${packages[@]}"
done

for name in "${names[@]}"; do
    file=$target_dir/$target/$(profile_of "$name")/$name.wasm
    if [ "$check" = 1 ]; then
        if cmp -s "$file" "build/$name.wasm"; then
            report "$name" "$file"
        else
            report "$name" "$file"
            echo "  DIFFERS from build/$name.wasm ($( [ -f "build/$name.wasm" ] && size_of "build/$name.wasm" || echo missing))" >&2
            status=1
        fi
    else
        cp "$file" "build/$name.wasm"
        report "$name" "build/$name.wasm"
    fi
done

# Artifacts without a crate (a contract that was removed or renamed).
for file in build/*.wasm; do
    name=$(basename "$file" .wasm)
    if [ ! -d "examples/$name" ]; then
        echo "stale artifact without a crate: $file" >&2
        status=1
    fi
done

if [ "$check" = 1 ]; then
    if [ "$status" = 0 ]; then
        echo "check: all artifacts in build/ match their sources"
    else
        echo "check FAILED: run ./build.sh and commit build/" >&2
    fi
fi
exit "$status"
