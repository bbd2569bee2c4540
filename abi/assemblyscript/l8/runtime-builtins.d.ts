// For editors only (asc knows these): the AssemblyScript runtime functions the SDK calls.
// AssemblyScript's own editor types leave them out because user code rarely needs them.
declare function __new(size: usize, id: u32): usize;
declare function __renew(ptr: usize, size: usize): usize;
declare function __pin(ptr: usize): usize;
declare function __unpin(ptr: usize): void;
declare function __collect(): void;
