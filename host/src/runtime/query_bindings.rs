//! The host side of the `queryable` world's one export, `query`: a second
//! `bindgen!` whose import traits go unused (the `plugin` world's bindings
//! link the imports); only the export's indices and caller are taken, so a
//! component of the plain `plugin` world still loads, without queries.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "queryable",
    imports: { default: async },
    exports: { default: async },
});

pub use exports::streamplug::plugin::query::{
    Guest as QueryGuest, GuestIndices as QueryIndices, QueryError,
};
