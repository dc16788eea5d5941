//! The handler's `handle` export called with the event lowered straight
//! from the stored event. The bindings' `Event` owns its strings, so
//! building one for a call cloned nine strings, the data and the headers
//! (0.27-0.35 µs an event in the dispatch bench); [`EventRef`] is the same
//! WIT record over borrowed fields, and [`HandleExport`] calls `handle`
//! with it (type-checked once, when the instance is made).

use wasmtime::component::{ComponentType, Func, Instance, Lower, TypedFunc};
use wasmtime::{AsContextMut, Store};

use super::bindings::{HandleError, handler_interface};
use super::state::StoreState;
use crate::event::StoredEvent;

/// The WIT `event` record (`wit/types.wit`), borrowing the stored event.
#[derive(ComponentType, Lower)]
#[component(record)]
pub struct EventRef<'a> {
    id: &'a str,
    source: &'a str,
    #[component(name = "type")]
    type_: &'a str,
    subject: Option<&'a str>,
    time: Option<&'a str>,
    topic: &'a str,
    key: Option<&'a str>,
    #[component(name = "content-type")]
    content_type: Option<&'a str>,
    data: &'a [u8],
    headers: &'a [(String, String)],
    partition: u32,
    offset: u64,
}

impl<'a> EventRef<'a> {
    /// `stored` as the record the handler is called with.
    pub fn of(stored: &'a StoredEvent) -> Self {
        let e = &stored.event;
        Self {
            id: &e.id,
            source: &e.source,
            type_: &e.ty,
            subject: e.subject.as_deref(),
            time: e.time.as_deref(),
            topic: &e.topic,
            key: e.key.as_deref(),
            content_type: e.content_type.as_deref(),
            data: &e.data,
            headers: &e.headers,
            partition: stored.partition,
            offset: stored.offset,
        }
    }
}

type Handle<'a> = TypedFunc<(EventRef<'a>,), (Result<(), HandleError>,)>;

/// The function `name` of the handler interface `instance` exports.
pub fn handler_func(
    store: &mut Store<StoreState>,
    instance: &Instance,
    name: &str,
) -> wasmtime::Result<Func> {
    let interface = handler_interface();
    let handler = instance
        .get_export_index(&mut *store, None, &interface)
        .ok_or_else(|| wasmtime::format_err!("no export `{interface}`"))?;
    let index = instance
        .get_export_index(&mut *store, Some(&handler), name)
        .ok_or_else(|| wasmtime::format_err!("no function `{name}` in `{interface}`"))?;
    instance
        .get_func(&mut *store, index)
        .ok_or_else(|| wasmtime::format_err!("`{interface}#{name}` is not a function"))
}

/// An instance's `handle` export, checked to take the event record.
#[derive(Clone, Copy)]
pub struct HandleExport(Func);

impl HandleExport {
    /// The `handle` export of `instance`'s handler interface.
    pub fn of(store: &mut Store<StoreState>, instance: &Instance) -> wasmtime::Result<Self> {
        let func = handler_func(store, instance, "handle")?;
        // The signature, once: a lifetime does not change the WIT type.
        func.typed::<(EventRef<'static>,), (Result<(), HandleError>,)>(&*store)?;
        Ok(Self(func))
    }

    /// Call `handle` with `stored`, lowered from its fields in place.
    #[allow(unsafe_code)]
    pub async fn call(
        self,
        store: &mut Store<StoreState>,
        stored: &StoredEvent,
    ) -> wasmtime::Result<Result<(), HandleError>> {
        // SAFETY: `of` checked that the function has this signature (as
        // wasmtime's generated bindings do before the same call); the
        // record's lifetime is not part of its component type.
        let handle = unsafe { Handle::new_unchecked(self.0) };
        let (result,) = handle
            .call_async(store.as_context_mut(), (EventRef::of(stored),))
            .await?;
        Ok(result)
    }
}
