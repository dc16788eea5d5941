//! Tests of [`super::Table`]: its updates and its stored form.

use std::collections::BTreeMap;

use super::*;

fn stored(table: &Table<'_>) -> Vec<u8> {
    let mut bytes = Vec::new();
    table.encode_into(&mut bytes).unwrap();
    bytes
}

#[test]
fn adding_sums_and_the_cap_drops_the_lightest() {
    let mut t = Table::default();
    for i in 0..5 {
        t.add_capped(&format!("p{i}"), f64::from(i), 3);
    }
    t.add_capped("p2", 10.0, 3);
    assert_eq!(t.len(), 3);
    assert_eq!(t.get("p2"), Some(12.0));
    assert_eq!(t.get("p0"), None);
    assert_eq!(t.get("p1"), None);
    // Equal weights: the larger id goes first, whatever the order of entry.
    let (larger, smaller) = if product_id("a") > product_id("b") {
        ("a", "b")
    } else {
        ("b", "a")
    };
    for [first, second] in [["a", "b"], ["b", "a"]] {
        let mut tie = Table::from([(first.into(), 1.0), (second.into(), 1.0)]);
        tie.add_capped("c", 5.0, 2);
        assert_eq!(tie.get(smaller), Some(1.0));
        assert_eq!(tie.get(larger), None);
    }
}

#[test]
fn a_stored_table_reads_back_borrowing_its_names_and_owns_what_it_adds() {
    let t = Table::from([("mat".into(), 1.5), ("stöve".into(), 9.0)]);
    let bytes = stored(&t);
    assert_eq!(&bytes[..5], &[0xC1, 0xC1, FORMAT, 2, 0]);
    assert_eq!(
        bytes.len(),
        5 + 2 * ENTRY_FIXED + "mat".len() + "stöve".len()
    );
    let mut read = Table::decode(&bytes).unwrap();
    assert_eq!(read, t);
    assert!(read.iter().all(|e| matches!(e.name, Cow::Borrowed(_))));
    assert_eq!(read.iter().nth(1).unwrap().product(), "stöve");
    read.add_capped("lamp", 2.0, 10);
    let added = read.iter().last().unwrap();
    assert!(matches!(&added.name, Cow::Owned(name) if name == b"lamp"));
    assert_eq!(added.id, product_id("lamp"));
    let owned: Table<'static> = read.into_owned();
    assert_eq!(owned.get("lamp"), Some(2.0));
    assert_eq!(
        Table::decode(&stored(&Table::default())).unwrap(),
        Table::default()
    );
}

#[test]
fn tables_stored_as_maps_by_earlier_versions_are_read() {
    let map: BTreeMap<&str, f64> = [("mat", 1.5), ("stove", 9.0)].into();
    let packed = streamplug_sdk::packed::encode(&map).unwrap();
    let json = serde_json::to_vec(&map).unwrap();
    let expected = Table::from([("mat".into(), 1.5), ("stove".into(), 9.0)]);
    let from_packed = Table::decode(&packed).unwrap();
    assert_eq!(from_packed, expected);
    // A packed string is read in place: no name is copied out.
    assert!(
        from_packed
            .iter()
            .all(|e| matches!(e.name, Cow::Borrowed(_)))
    );
    assert_eq!(Table::decode(&json).unwrap(), expected);
    // Written back, it takes the new form and reads the same.
    assert_eq!(Table::decode(&stored(&expected)).unwrap(), expected);
    // JSON with an escape cannot be borrowed: it is read owned.
    let escaped = Table::decode(br#"{"m\u0061t":1.5}"#).unwrap();
    assert_eq!(escaped.get("mat"), Some(1.5));
    assert!(escaped.iter().all(|e| matches!(e.name, Cow::Owned(_))));
    let wrong = Table::decode(b"[1]").unwrap_err();
    assert!(format!("{wrong}").contains("map of product"), "{wrong}");
}

#[test]
fn damaged_or_newer_tables_are_refused_not_misread() {
    let bytes = stored(&Table::from([("mat".into(), 1.5), ("stove".into(), 9.0)]));
    for cut in 3..bytes.len() {
        let err = Table::decode(&bytes[..cut]).unwrap_err();
        assert!(format!("{err}").contains("cut short"), "{cut}: {err}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    let err = Table::decode(&longer).unwrap_err();
    assert!(format!("{err}").contains("after its entries"), "{err}");
    let mut newer = bytes;
    newer[2] = FORMAT + 1;
    let err = Table::decode(&newer).unwrap_err();
    assert!(format!("{err}").contains("format 2"), "{err}");
}

#[test]
fn names_too_long_to_store_are_refused() {
    let long = "x".repeat(usize::from(u16::MAX) + 1);
    let t = Table::from([(long, 1.0)]);
    let err = t.encode_into(&mut Vec::new()).unwrap_err();
    assert!(
        format!("{err}").contains("product name is too long"),
        "{err}"
    );
}

#[test]
fn product_ids_are_fnv_1a_64_and_tell_names_apart() {
    // The published FNV-1a 64 test vectors: ids are stored, so they must
    // never change between versions.
    assert_eq!(product_id(""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(product_id("a"), 0xaf63_dc4c_8601_ec8c);
    assert_eq!(product_id("foobar"), 0x8594_4171_f739_67e8);
    let ids: std::collections::BTreeSet<u64> =
        (0..100_000).map(|i| product_id(&format!("p{i}"))).collect();
    assert_eq!(ids.len(), 100_000);
}
