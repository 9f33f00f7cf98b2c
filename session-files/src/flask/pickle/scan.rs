//! A pass over a pickle before `serde-pickle` decodes it: what it may contain and how big
//! it may grow.
//!
//! `serde-pickle` decodes data and makes a best effort at objects: it turns `NEWOBJ` (a
//! `Markup`, any `str` subclass) into an empty dict without a word, and only fails on a
//! `REDUCE` (a `datetime`) late. Writing such a session back would destroy the Flask
//! app's value, so every opcode that names or builds an object is refused here, with its
//! name and offset; nothing in a pickle is ever executed either way.
//!
//! `serde-pickle` also converts recursively and copies what the memo shares, so a small
//! hostile file could nest deep enough to overflow the stack, or share a list with itself
//! until it expands to gigabytes. This pass follows the structure the opcodes build
//! (containers and their children, through the memo, without the values) and refuses a
//! pickle nested deeper than [`MAX_DEPTH`], expanding past [`MAX_NODES`] values, or
//! containing itself.

use std::collections::HashMap;

use crate::flask::FlaskFileError;

/// The deepest nesting accepted; serde_json's own limit.
pub(crate) const MAX_DEPTH: usize = 128;
/// The most values a pickle may expand to, shared ones counted each time they appear.
pub(crate) const MAX_NODES: u64 = 1_000_000;

/// How an opcode's argument is laid out.
#[derive(Clone, Copy)]
enum Arg {
    None,
    Fixed(usize),
    Line,
    /// A length of this many bytes (little-endian), then that many bytes.
    Counted(usize),
}

/// What an opcode does to the structure.
#[derive(Clone, Copy)]
enum Op {
    Mark,
    Stop,
    Pop,
    PopMark,
    Dup,
    /// Pushes a value that holds no other (a number, a string, bytes, `None`).
    Atom,
    /// Pushes an empty container.
    Empty,
    /// Pops this many values into a new container.
    Collect(usize),
    /// Pops everything down to the mark into a new container.
    CollectMark,
    /// Adds this many popped values to the container below them.
    Add(usize),
    /// Adds everything down to the mark to the container below it.
    AddMark,
    Put,
    Memoize,
    Get,
    Meta,
    /// Names or builds an object: refused.
    Object,
    /// Decodable data whose type `serde-pickle` would not keep: refused.
    Unsupported,
}

fn opcode(code: u8) -> Option<(&'static str, Arg, Op)> {
    use Arg::{Counted, Fixed, Line};
    Some(match code {
        b'(' => ("MARK", Arg::None, Op::Mark),
        b'.' => ("STOP", Arg::None, Op::Stop),
        b'0' => ("POP", Arg::None, Op::Pop),
        b'1' => ("POP_MARK", Arg::None, Op::PopMark),
        b'2' => ("DUP", Arg::None, Op::Dup),
        b'F' => ("FLOAT", Line, Op::Atom),
        b'I' => ("INT", Line, Op::Atom),
        b'J' => ("BININT", Fixed(4), Op::Atom),
        b'K' => ("BININT1", Fixed(1), Op::Atom),
        b'L' => ("LONG", Line, Op::Atom),
        b'M' => ("BININT2", Fixed(2), Op::Atom),
        b'N' => ("NONE", Arg::None, Op::Atom),
        b'P' => ("PERSID", Line, Op::Object),
        b'Q' => ("BINPERSID", Arg::None, Op::Object),
        b'R' => ("REDUCE", Arg::None, Op::Object),
        b'S' => ("STRING", Line, Op::Atom),
        b'T' => ("BINSTRING", Counted(4), Op::Atom),
        b'U' => ("SHORT_BINSTRING", Counted(1), Op::Atom),
        b'V' => ("UNICODE", Line, Op::Atom),
        b'X' => ("BINUNICODE", Counted(4), Op::Atom),
        b'a' => ("APPEND", Arg::None, Op::Add(1)),
        b'b' => ("BUILD", Arg::None, Op::Object),
        b'c' => ("GLOBAL", Line, Op::Object),
        b'd' => ("DICT", Arg::None, Op::CollectMark),
        b'}' => ("EMPTY_DICT", Arg::None, Op::Empty),
        b'e' => ("APPENDS", Arg::None, Op::AddMark),
        b'g' => ("GET", Line, Op::Get),
        b'h' => ("BINGET", Fixed(1), Op::Get),
        b'i' => ("INST", Line, Op::Object),
        b'j' => ("LONG_BINGET", Fixed(4), Op::Get),
        b'l' => ("LIST", Arg::None, Op::CollectMark),
        b']' => ("EMPTY_LIST", Arg::None, Op::Empty),
        b'o' => ("OBJ", Arg::None, Op::Object),
        b'p' => ("PUT", Line, Op::Put),
        b'q' => ("BINPUT", Fixed(1), Op::Put),
        b'r' => ("LONG_BINPUT", Fixed(4), Op::Put),
        b's' => ("SETITEM", Arg::None, Op::Add(2)),
        b't' => ("TUPLE", Arg::None, Op::CollectMark),
        b')' => ("EMPTY_TUPLE", Arg::None, Op::Empty),
        b'u' => ("SETITEMS", Arg::None, Op::AddMark),
        b'G' => ("BINFLOAT", Fixed(8), Op::Atom),
        0x80 => ("PROTO", Fixed(1), Op::Meta),
        0x81 => ("NEWOBJ", Arg::None, Op::Object),
        0x82 => ("EXT1", Fixed(1), Op::Object),
        0x83 => ("EXT2", Fixed(2), Op::Object),
        0x84 => ("EXT4", Fixed(4), Op::Object),
        0x85 => ("TUPLE1", Arg::None, Op::Collect(1)),
        0x86 => ("TUPLE2", Arg::None, Op::Collect(2)),
        0x87 => ("TUPLE3", Arg::None, Op::Collect(3)),
        0x88 => ("NEWTRUE", Arg::None, Op::Atom),
        0x89 => ("NEWFALSE", Arg::None, Op::Atom),
        0x8a => ("LONG1", Counted(1), Op::Atom),
        0x8b => ("LONG4", Counted(4), Op::Atom),
        b'B' => ("BINBYTES", Counted(4), Op::Atom),
        b'C' => ("SHORT_BINBYTES", Counted(1), Op::Atom),
        0x8c => ("SHORT_BINUNICODE", Counted(1), Op::Atom),
        0x8d => ("BINUNICODE8", Counted(8), Op::Atom),
        0x8e => ("BINBYTES8", Counted(8), Op::Atom),
        0x8f => ("EMPTY_SET", Arg::None, Op::Empty),
        0x90 => ("ADDITEMS", Arg::None, Op::AddMark),
        0x91 => ("FROZENSET", Arg::None, Op::CollectMark),
        0x92 => ("NEWOBJ_EX", Arg::None, Op::Object),
        0x93 => ("STACK_GLOBAL", Arg::None, Op::Object),
        0x94 => ("MEMOIZE", Arg::None, Op::Memoize),
        0x95 => ("FRAME", Fixed(8), Op::Meta),
        0x96 => ("BYTEARRAY8", Counted(8), Op::Unsupported),
        0x97 => ("NEXT_BUFFER", Arg::None, Op::Object),
        0x98 => ("READONLY_BUFFER", Arg::None, Op::Object),
        _ => return None,
    })
}

/// A value on the stack: one that holds nothing, or a container (an index into `nodes`).
#[derive(Clone, Copy)]
enum Slot {
    Atom,
    Node(usize),
}

#[derive(Default)]
struct Machine {
    stack: Vec<Slot>,
    marks: Vec<usize>,
    memo: HashMap<u64, Slot>,
    /// The children of each container.
    nodes: Vec<Vec<Slot>>,
}

/// Checks `pickle` (see the module docs); `Ok` when `serde-pickle` may decode it.
pub(crate) fn check(pickle: &[u8]) -> Result<(), FlaskFileError> {
    let mut machine = Machine::default();
    let mut at = 0;
    loop {
        let offset = at;
        let code = *pickle.get(at).ok_or(FlaskFileError::Truncated { offset })?;
        let (name, arg, op) = opcode(code).ok_or(FlaskFileError::UnknownOpcode { code, offset })?;
        at += 1;
        let malformed = |why: &'static str| FlaskFileError::Malformed {
            opcode: name,
            offset,
            why,
        };
        let argument =
            read_arg(pickle, &mut at, arg).ok_or(FlaskFileError::Truncated { offset })?;
        match op {
            Op::Object => {
                return Err(FlaskFileError::Object {
                    opcode: name,
                    offset,
                })
            }
            Op::Unsupported => {
                return Err(FlaskFileError::Unsupported {
                    opcode: name,
                    offset,
                })
            }
            Op::Meta => {}
            Op::Mark => machine.marks.push(machine.stack.len()),
            Op::Stop => {
                let root = machine.pop().ok_or(malformed("nothing to return"))?;
                if at != pickle.len() {
                    return Err(FlaskFileError::TrailingBytes { offset: at });
                }
                return machine.measure(root);
            }
            Op::Pop => {
                if machine.marks.last() == Some(&machine.stack.len()) {
                    machine.marks.pop();
                } else {
                    machine.pop().ok_or(malformed("empty stack"))?;
                }
            }
            Op::PopMark => {
                machine.pop_mark().ok_or(malformed("no mark"))?;
            }
            Op::Dup => {
                let top = machine.top().ok_or(malformed("empty stack"))?;
                machine.stack.push(top);
            }
            Op::Atom => machine.stack.push(Slot::Atom),
            Op::Empty => machine.push_node(Vec::new()),
            Op::Collect(n) => {
                let split = machine
                    .stack
                    .len()
                    .checked_sub(n)
                    .ok_or(malformed("too few values"))?;
                if machine.marks.last().is_some_and(|mark| *mark > split) {
                    return Err(malformed("too few values"));
                }
                let items = machine.stack.split_off(split);
                machine.push_node(items);
            }
            Op::CollectMark => {
                let items = machine.pop_mark().ok_or(malformed("no mark"))?;
                machine.push_node(items);
            }
            Op::Add(n) => {
                let split = machine
                    .stack
                    .len()
                    .checked_sub(n + 1)
                    .ok_or(malformed("too few values"))?;
                if machine.marks.last().is_some_and(|mark| *mark > split) {
                    return Err(malformed("too few values"));
                }
                let items = machine.stack.split_off(split + 1);
                machine
                    .add_to_top(items)
                    .ok_or(malformed("not a container"))?;
            }
            Op::AddMark => {
                let items = machine.pop_mark().ok_or(malformed("no mark"))?;
                machine
                    .add_to_top(items)
                    .ok_or(malformed("not a container"))?;
            }
            Op::Put | Op::Memoize => {
                let top = machine.top().ok_or(malformed("empty stack"))?;
                let id = match op {
                    // serde-pickle numbers MEMOIZE by how many entries the memo holds.
                    Op::Memoize => machine.memo.len() as u64,
                    _ => memo_id(arg, argument).ok_or(malformed("bad memo id"))?,
                };
                machine.memo.insert(id, top);
            }
            Op::Get => {
                let id = memo_id(arg, argument).ok_or(malformed("bad memo id"))?;
                let slot = *machine.memo.get(&id).ok_or(malformed("unknown memo id"))?;
                machine.stack.push(slot);
            }
        }
    }
}

/// Reads an opcode's argument at `*at`, moving past it; `None` past the end.
fn read_arg<'a>(pickle: &'a [u8], at: &mut usize, arg: Arg) -> Option<&'a [u8]> {
    let start = *at;
    let len = match arg {
        Arg::None => 0,
        Arg::Fixed(n) => n,
        Arg::Line => pickle.get(start..)?.iter().position(|b| *b == b'\n')? + 1,
        Arg::Counted(width) => {
            let bytes = pickle.get(start..start.checked_add(width)?)?;
            let mut le = [0_u8; 8];
            le[..width].copy_from_slice(bytes);
            width.checked_add(usize::try_from(u64::from_le_bytes(le)).ok()?)?
        }
    };
    let end = start.checked_add(len)?;
    let argument = pickle.get(start..end)?;
    *at = end;
    Some(argument)
}

/// The memo id of a GET/PUT argument: binary little-endian, or a decimal text line.
fn memo_id(arg: Arg, argument: &[u8]) -> Option<u64> {
    match (arg, argument) {
        (Arg::Fixed(1), [byte]) => Some(u64::from(*byte)),
        (Arg::Fixed(4), [a, b, c, d]) => Some(u64::from(u32::from_le_bytes([*a, *b, *c, *d]))),
        (Arg::Line, line) => std::str::from_utf8(line).ok()?.trim_end().parse().ok(),
        _ => None,
    }
}

impl Machine {
    fn pop(&mut self) -> Option<Slot> {
        if self.marks.last() == Some(&self.stack.len()) {
            return None;
        }
        self.stack.pop()
    }

    /// The value on top, above the last mark.
    fn top(&self) -> Option<Slot> {
        if self.marks.last() == Some(&self.stack.len()) {
            return None;
        }
        self.stack.last().copied()
    }

    fn pop_mark(&mut self) -> Option<Vec<Slot>> {
        let mark = self.marks.pop()?;
        Some(self.stack.split_off(mark))
    }

    fn push_node(&mut self, children: Vec<Slot>) {
        self.nodes.push(children);
        self.stack.push(Slot::Node(self.nodes.len() - 1));
    }

    fn add_to_top(&mut self, items: Vec<Slot>) -> Option<()> {
        if self.marks.last() == Some(&self.stack.len()) {
            return None;
        }
        match self.stack.last()? {
            Slot::Node(node) => {
                self.nodes[*node].extend(items);
                Some(())
            }
            Slot::Atom => None,
        }
    }

    /// The depth and expanded size of `root`, refusing cycles, without recursion.
    fn measure(&self, root: Slot) -> Result<(), FlaskFileError> {
        let Slot::Node(root) = root else {
            return Ok(());
        };
        // Per node: 0 unvisited, 1 on the path, 2 done; and (depth, size) once done.
        let mut state = vec![0_u8; self.nodes.len()];
        let mut measured = vec![(0_usize, 0_u64); self.nodes.len()];
        let mut path = vec![(root, 0_usize)];
        state[root] = 1;
        while let Some((node, next)) = path.last_mut() {
            let node = *node;
            if let Some(child) = self.nodes[node].get(*next) {
                *next += 1;
                if let Slot::Node(child) = *child {
                    match state[child] {
                        0 => {
                            if path.len() >= MAX_DEPTH {
                                return Err(FlaskFileError::TooDeep { limit: MAX_DEPTH });
                            }
                            state[child] = 1;
                            path.push((child, 0));
                        }
                        1 => return Err(FlaskFileError::Recursive),
                        _ => {}
                    }
                }
                continue;
            }
            let (mut depth, mut size) = (0, 1_u64);
            for child in &self.nodes[node] {
                let (child_depth, child_size) = match child {
                    Slot::Atom => (0, 1),
                    Slot::Node(child) => measured[*child],
                };
                depth = depth.max(child_depth);
                size = size.saturating_add(child_size);
            }
            if depth + 1 > MAX_DEPTH {
                return Err(FlaskFileError::TooDeep { limit: MAX_DEPTH });
            }
            if size > MAX_NODES {
                return Err(FlaskFileError::TooBig { limit: MAX_NODES });
            }
            measured[node] = (depth + 1, size);
            state[node] = 2;
            path.pop();
        }
        Ok(())
    }
}
