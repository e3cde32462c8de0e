//! The host functions as wasmtime sees them: each one charges its schedule cost first,
//! bounds-checks every pointer and length the contract passed, then does its work (itself for
//! memory-only functions, through the [`Host`] for the rest).

use wasmtime::{Caller, Linker, Val};

use crate::exec::{read_i64, Ctx, HostExit};
use crate::host::{CallRequest, CreateRequest, GasMeter, Host, Word};
use crate::host_abi::{HostFn, HOST_MODULE};
use crate::outcome::TrapKind;

type C<'a, H> = Caller<'a, Ctx<H>>;
type R<T> = wasmtime::Result<T>;

/// Most topics a log may have.
pub const MAX_LOG_TOPICS: u32 = 4;

/// Registers every host function of [`HostFn`] in `linker`.
pub(crate) fn link<H: Host>(linker: &mut Linker<Ctx<H>>) -> R<()> {
    use HostFn::*;
    let m = HOST_MODULE;
    linker.func_wrap(m, InputSize.name(), |mut c: C<H>| -> R<i32> {
        charge(&mut c, InputSize, 0)?;
        Ok(c.data().input.len() as i32)
    })?;
    linker.func_wrap(
        m,
        InputRead.name(),
        |mut c: C<H>, dst: i32, offset: i32, len: i32| -> R<()> {
            charge(&mut c, InputRead, len as u32 as u64)?;
            copy_out(&mut c, InputRead, dst, offset, len, |ctx| &ctx.input)
        },
    )?;
    linker.func_wrap(
        m,
        SetReturn.name(),
        |mut c: C<H>, ptr: i32, len: i32| -> R<()> {
            charge(&mut c, SetReturn, len as u32 as u64)?;
            check_return_size(&c, len)?;
            let data = read(&mut c, SetReturn, ptr, len)?;
            c.data_mut().return_data = data;
            Ok(())
        },
    )?;
    linker.func_wrap(
        m,
        Revert.name(),
        |mut c: C<H>, ptr: i32, len: i32| -> R<()> {
            charge(&mut c, Revert, len as u32 as u64)?;
            check_return_size(&c, len)?;
            let data = read(&mut c, Revert, ptr, len)?;
            Err(wasmtime::Error::new(HostExit::Revert(data)))
        },
    )?;
    linker.func_wrap(m, GasLeft.name(), |mut c: C<H>| -> R<i64> {
        charge(&mut c, GasLeft, 0)?;
        Ok(gas_remaining(&mut c))
    })?;
    linker.func_wrap(
        m,
        Keccak256.name(),
        |mut c: C<H>, ptr: i32, len: i32, out: i32| -> R<()> {
            charge(&mut c, Keccak256, len as u32 as u64)?;
            let hash = {
                let mem = memory(&c, Keccak256)?;
                let data = mem.data(&c);
                crate::keccak256(&data[range(Keccak256, ptr, len, data.len())?])
            };
            write(&mut c, Keccak256, out, &hash)
        },
    )?;
    linker.func_wrap(
        m,
        StorageRead.name(),
        |mut c: C<H>, key: i32, out: i32| -> R<()> {
            let gas = charge(&mut c, StorageRead, 0)?;
            let key: Word = read_array(&mut c, StorageRead, key)?;
            let value = with_host(&mut c, StorageRead, gas, |h, g| h.storage_read(g, &key))?;
            write(&mut c, StorageRead, out, &value)
        },
    )?;
    linker.func_wrap(
        m,
        StorageWrite.name(),
        |mut c: C<H>, key: i32, value: i32| -> R<()> {
            let gas = charge(&mut c, StorageWrite, 0)?;
            let key: Word = read_array(&mut c, StorageWrite, key)?;
            let value: Word = read_array(&mut c, StorageWrite, value)?;
            with_host(&mut c, StorageWrite, gas, |h, g| {
                h.storage_write(g, &key, &value)
            })
        },
    )?;
    linker.func_wrap(m, Caller.name(), |mut c: C<H>, out: i32| -> R<()> {
        charge(&mut c, Caller, 0)?;
        let v = c.data().host.caller();
        write(&mut c, Caller, out, &v)
    })?;
    linker.func_wrap(m, Address.name(), |mut c: C<H>, out: i32| -> R<()> {
        charge(&mut c, Address, 0)?;
        let v = c.data().host.address();
        write(&mut c, Address, out, &v)
    })?;
    linker.func_wrap(m, CallValue.name(), |mut c: C<H>, out: i32| -> R<()> {
        charge(&mut c, CallValue, 0)?;
        let v = c.data().host.call_value();
        write(&mut c, CallValue, out, &v)
    })?;
    linker.func_wrap(
        m,
        Balance.name(),
        |mut c: C<H>, addr: i32, out: i32| -> R<()> {
            let gas = charge(&mut c, Balance, 0)?;
            let addr: [u8; 20] = read_array(&mut c, Balance, addr)?;
            let v = with_host(&mut c, Balance, gas, |h, g| h.balance(g, &addr))?;
            write(&mut c, Balance, out, &v)
        },
    )?;
    linker.func_wrap(
        m,
        Transfer.name(),
        |mut c: C<H>, addr: i32, value: i32| -> R<i32> {
            let gas = charge(&mut c, Transfer, 0)?;
            let to: [u8; 20] = read_array(&mut c, Transfer, addr)?;
            let value: Word = read_array(&mut c, Transfer, value)?;
            let ok = with_host(&mut c, Transfer, gas, |h, g| h.transfer(g, &to, &value))?;
            Ok(if ok { 0 } else { 1 })
        },
    )?;
    linker.func_wrap(m, BlockNumber.name(), |mut c: C<H>| -> R<i64> {
        charge(&mut c, BlockNumber, 0)?;
        Ok(c.data().host.block().number as i64)
    })?;
    linker.func_wrap(m, BlockTimestamp.name(), |mut c: C<H>| -> R<i64> {
        charge(&mut c, BlockTimestamp, 0)?;
        Ok(c.data().host.block().timestamp as i64)
    })?;
    linker.func_wrap(m, ChainId.name(), |mut c: C<H>| -> R<i64> {
        charge(&mut c, ChainId, 0)?;
        Ok(c.data().host.block().chain_id as i64)
    })?;
    linker.func_wrap(m, BaseFee.name(), |mut c: C<H>, out: i32| -> R<()> {
        charge(&mut c, BaseFee, 0)?;
        let v = c.data().host.block().base_fee;
        write(&mut c, BaseFee, out, &v)
    })?;
    linker.func_wrap(m, BlockProducer.name(), |mut c: C<H>, out: i32| -> R<()> {
        charge(&mut c, BlockProducer, 0)?;
        let v = c.data().host.block().producer;
        write(&mut c, BlockProducer, out, &v)
    })?;
    linker.func_wrap(
        m,
        EmitLog.name(),
        |mut c: C<H>, topics: i32, count: i32, data: i32, len: i32| -> R<()> {
            let count = count as u32;
            let bytes = (len as u32 as u64).saturating_add(u64::from(count) * 32);
            let gas = charge(&mut c, EmitLog, bytes)?;
            if count > MAX_LOG_TOPICS {
                return Err(HostExit::argument(
                    EmitLog,
                    format!("{count} topics, at most {MAX_LOG_TOPICS}"),
                ));
            }
            let raw = read(&mut c, EmitLog, topics, (count * 32) as i32)?;
            let topics: Vec<Word> = raw
                .chunks_exact(32)
                .map(|t| {
                    let mut w = [0u8; 32];
                    w.copy_from_slice(t);
                    w
                })
                .collect();
            let data = read(&mut c, EmitLog, data, len)?;
            with_host(&mut c, EmitLog, gas, |h, g| h.emit_log(g, &topics, &data))
        },
    )?;
    linker.func_wrap(
        m,
        Call.name(),
        |mut c: C<H>, addr: i32, value: i32, gas: i64, input: i32, len: i32| -> R<i32> {
            let gas_left = charge(&mut c, Call, len as u32 as u64)?;
            let to: [u8; 20] = read_array(&mut c, Call, addr)?;
            let value: Word = read_array(&mut c, Call, value)?;
            let input = read(&mut c, Call, input, len)?;
            let stack_units = stack_remaining(&mut c);
            let request = CallRequest {
                to,
                value,
                gas: gas as u64,
                input: &input,
                stack_units,
            };
            let out = with_host(&mut c, Call, gas_left, |h, g| h.call(g, request))?;
            c.data_mut().last_output = out.output;
            Ok(out.status as i32)
        },
    )?;
    linker.func_wrap(
        m,
        Create.name(),
        |mut c: C<H>,
         code: i32,
         code_len: i32,
         value: i32,
         input: i32,
         len: i32,
         out: i32|
         -> R<i32> {
            let bytes = (code_len as u32 as u64) + (len as u32 as u64);
            let gas = charge(&mut c, Create, bytes)?;
            let code = read(&mut c, Create, code, code_len)?;
            let value: Word = read_array(&mut c, Create, value)?;
            let input = read(&mut c, Create, input, len)?;
            // Check the output pointer before the work is done.
            write(&mut c, Create, out, &[0u8; 20])?;
            let stack_units = stack_remaining(&mut c);
            let request = CreateRequest {
                code: &code,
                value,
                input: &input,
                stack_units,
            };
            let created = with_host(&mut c, Create, gas, |h, g| h.create(g, request))?;
            c.data_mut().last_output = created.output;
            write(&mut c, Create, out, &created.address)?;
            Ok(created.status as i32)
        },
    )?;
    linker.func_wrap(m, ReturnDataSize.name(), |mut c: C<H>| -> R<i32> {
        charge(&mut c, ReturnDataSize, 0)?;
        Ok(c.data().last_output.len() as i32)
    })?;
    linker.func_wrap(
        m,
        ReturnDataRead.name(),
        |mut c: C<H>, dst: i32, offset: i32, len: i32| -> R<()> {
            charge(&mut c, ReturnDataRead, len as u32 as u64)?;
            copy_out(&mut c, ReturnDataRead, dst, offset, len, |ctx| {
                &ctx.last_output
            })
        },
    )?;
    Ok(())
}

/// Charges the schedule cost of `f` for `bytes` bytes of data, before the function works;
/// returns the gas left.
fn charge<H: Host>(c: &mut C<H>, f: HostFn, bytes: u64) -> R<u64> {
    let cost = c.data().host_costs[f as usize].cost_bytes(bytes);
    let remaining = gas_remaining(c);
    let left = i64::try_from(cost)
        .ok()
        .and_then(|cost| remaining.checked_sub(cost));
    match left {
        Some(left) if left >= 0 => {
            set_gas(c, left);
            let used = &mut c.data_mut().host_gas[f as usize];
            used.calls += 1;
            used.gas += cost;
            // Checked non-negative just above.
            Ok(left as u64)
        }
        _ => {
            set_gas(c, -1);
            Err(wasmtime::Error::new(HostExit::OutOfGas))
        }
    }
}

fn gas_remaining<H: Host>(c: &mut C<H>) -> i64 {
    match c.data().gas {
        Some(g) => read_i64(&mut *c, g),
        None => 0,
    }
}

fn set_gas<H: Host>(c: &mut C<H>, value: i64) {
    if let Some(g) = c.data().gas {
        // The global is a mutable i64 created by the instrumenter: setting an i64 cannot fail.
        let _ = g.set(&mut *c, Val::I64(value));
    }
}

fn stack_remaining<H: Host>(c: &mut C<H>) -> u32 {
    match c.data().stack {
        Some(g) => g.get(&mut *c).i32().unwrap_or(0).max(0) as u32,
        None => 0,
    }
}

/// Runs a host method with a gas meter holding the execution's remaining gas (`before`, as
/// [`charge`] returned it).
fn with_host<H: Host, T>(
    c: &mut C<H>,
    f: HostFn,
    before: u64,
    work: impl FnOnce(&mut H, &mut GasMeter) -> Result<T, crate::host::HostError>,
) -> R<T> {
    let mut meter = GasMeter::new(before);
    let result = work(&mut c.data_mut().host, &mut meter);
    // The meter only ever decreases from a value that fit in i64.
    set_gas(c, meter.remaining() as i64);
    c.data_mut().host_gas[f as usize].gas += before - meter.remaining();
    result.map_err(|e| HostExit::from_host(e, f))
}

/// The byte range `[offset, offset + len)` if it lies within `size`.
fn range(f: HostFn, offset: i32, len: i32, size: usize) -> R<std::ops::Range<usize>> {
    let start = offset as u32 as usize;
    let end = start.checked_add(len as u32 as usize);
    match end {
        Some(end) if end <= size => Ok(start..end),
        _ => Err(HostExit::argument(
            f,
            format!("range {start}+{} outside {size} bytes", len as u32),
        )),
    }
}

fn memory<H: Host>(c: &C<H>, f: HostFn) -> R<wasmtime::Memory> {
    c.data()
        .memory
        .ok_or_else(|| HostExit::argument(f, "the contract exports no memory"))
}

fn read<H: Host>(c: &mut C<H>, f: HostFn, ptr: i32, len: i32) -> R<Vec<u8>> {
    let mem = memory(c, f)?;
    let data = mem.data(&*c);
    let r = range(f, ptr, len, data.len())?;
    Ok(data[r].to_vec())
}

fn read_array<H: Host, const N: usize>(c: &mut C<H>, f: HostFn, ptr: i32) -> R<[u8; N]> {
    let mem = memory(c, f)?;
    let data = mem.data(&*c);
    let r = range(f, ptr, N as i32, data.len())?;
    let mut out = [0u8; N];
    out.copy_from_slice(&data[r]);
    Ok(out)
}

/// Copies `source(ctx)[offset..offset + len]` to memory at `dst`, both ranges checked.
fn copy_out<H: Host>(
    c: &mut C<H>,
    f: HostFn,
    dst: i32,
    offset: i32,
    len: i32,
    source: impl FnOnce(&Ctx<H>) -> &Vec<u8>,
) -> R<()> {
    let mem = memory(c, f)?;
    let (data, ctx) = mem.data_and_store_mut(&mut *c);
    let source = source(ctx);
    let from = range(f, offset, len, source.len())?;
    let to = range(f, dst, len, data.len())?;
    data[to].copy_from_slice(&source[from]);
    Ok(())
}

fn write<H: Host>(c: &mut C<H>, f: HostFn, ptr: i32, bytes: &[u8]) -> R<()> {
    let mem = memory(c, f)?;
    let data = mem.data_mut(&mut *c);
    let r = range(f, ptr, bytes.len() as i32, data.len())?;
    data[r].copy_from_slice(bytes);
    Ok(())
}

fn check_return_size<H: Host>(c: &C<H>, len: i32) -> R<()> {
    let max = u64::from(c.data().config.execution_limits.max_return_data);
    let len = len as u32 as u64;
    if len > max {
        return Err(wasmtime::Error::new(HostExit::Trap(
            TrapKind::ReturnDataTooLarge { len, max },
        )));
    }
    Ok(())
}
