//! Deserializing a request body with errors that keep their kind.
//!
//! serde_json's errors are text: telling an unknown field from a missing one or a mistyped one
//! would mean reading the message, which changes between versions. So the body is first parsed into a
//! [`serde_json::Value`] (a syntax error is serde_json's `Syntax`/`Eof` category), then deserialized
//! into the request type by [`ValueDeserializer`], whose error type is [`Classified`]: serde's
//! derive code reports each failure through a structured constructor (`unknown_field`,
//! `missing_field`, `invalid_type`, ...), and [`Classified`] keeps which one it was and its
//! parts. `serde_path_to_error` adds the path of the field.
//!
//! The deserializer follows serde_json's own (`serde_json::Value as Deserializer`): a string is
//! only a string, a number only a number, so a type that asks for a string (a decimal, a date)
//! refuses a number exactly as before.

use std::fmt;

use serde::de::{
    self, value::MapDeserializer, value::SeqDeserializer, DeserializeSeed, EnumAccess,
    IntoDeserializer, Unexpected, VariantAccess, Visitor,
};
use serde_json::{Map, Number, Value};

/// What went wrong, as serde's derive code reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Classified {
    /// A key the type does not have (`deny_unknown_fields`).
    UnknownField(String),
    /// A required key is absent.
    MissingField(&'static str),
    /// A value of the wrong JSON type; `expected` says what was wanted.
    InvalidType {
        /// e.g. `i64`, `a formatted date string`.
        expected: String,
    },
    /// Anything else (a value out of range, an unknown enum variant, a date that does not parse),
    /// with serde's description.
    Invalid(String),
}

impl fmt::Display for Classified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Classified::UnknownField(name) => write!(f, "unknown field `{name}`"),
            Classified::MissingField(name) => write!(f, "missing field `{name}`"),
            Classified::InvalidType { expected } => write!(f, "invalid type, expected {expected}"),
            Classified::Invalid(detail) => f.write_str(detail),
        }
    }
}

impl std::error::Error for Classified {}

/// serde's wording of an error it builds itself (the default implementations).
fn serde_text(err: serde::de::value::Error) -> Classified {
    Classified::Invalid(err.to_string())
}

impl de::Error for Classified {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Classified::Invalid(msg.to_string())
    }

    fn invalid_type(_unexpected: Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        Classified::InvalidType {
            expected: expected.to_string(),
        }
    }

    fn invalid_value(unexpected: Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        serde_text(de::Error::invalid_value(unexpected, expected))
    }

    fn invalid_length(len: usize, expected: &dyn de::Expected) -> Self {
        serde_text(de::Error::invalid_length(len, expected))
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        serde_text(de::Error::unknown_variant(variant, expected))
    }

    fn unknown_field(field: &str, _expected: &'static [&'static str]) -> Self {
        Classified::UnknownField(field.to_string())
    }

    fn missing_field(field: &'static str) -> Self {
        Classified::MissingField(field)
    }

    fn duplicate_field(field: &'static str) -> Self {
        serde_text(de::Error::duplicate_field(field))
    }
}

/// Deserializes from a parsed JSON value with [`Classified`] errors.
pub struct ValueDeserializer(pub Value);

impl<'de> IntoDeserializer<'de, Classified> for ValueDeserializer {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

fn unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(n) => number_unexpected(n),
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

fn number_unexpected(n: &Number) -> Unexpected<'static> {
    if let Some(u) = n.as_u64() {
        Unexpected::Unsigned(u)
    } else if let Some(i) = n.as_i64() {
        Unexpected::Signed(i)
    } else {
        Unexpected::Float(n.as_f64().unwrap_or(f64::NAN))
    }
}

fn visit_number<'de, V: Visitor<'de>>(n: Number, visitor: V) -> Result<V::Value, Classified> {
    if let Some(u) = n.as_u64() {
        visitor.visit_u64(u)
    } else if let Some(i) = n.as_i64() {
        visitor.visit_i64(i)
    } else {
        visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN))
    }
}

fn visit_array<'de, V: Visitor<'de>>(
    items: Vec<Value>,
    visitor: V,
) -> Result<V::Value, Classified> {
    let mut seq = SeqDeserializer::new(items.into_iter().map(ValueDeserializer));
    let value = visitor.visit_seq(&mut seq)?;
    seq.end()?;
    Ok(value)
}

fn visit_object<'de, V: Visitor<'de>>(
    map: Map<String, Value>,
    visitor: V,
) -> Result<V::Value, Classified> {
    let mut entries = MapDeserializer::new(map.into_iter().map(|(k, v)| (k, ValueDeserializer(v))));
    let value = visitor.visit_map(&mut entries)?;
    entries.end()?;
    Ok(value)
}

impl ValueDeserializer {
    fn invalid_type<'de, V: Visitor<'de>>(&self, visitor: &V) -> Classified {
        de::Error::invalid_type(unexpected(&self.0), visitor)
    }
}

macro_rules! numbers {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Classified> {
            match self.0 {
                Value::Number(n) => visit_number(n, visitor),
                _ => Err(self.invalid_type(&visitor)),
            }
        }
    )*};
}

macro_rules! strings {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Classified> {
            match self.0 {
                Value::String(s) => visitor.visit_string(s),
                _ => Err(self.invalid_type(&visitor)),
            }
        }
    )*};
}

impl<'de> de::Deserializer<'de> for ValueDeserializer {
    type Error = Classified;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Classified> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Number(n) => visit_number(n, visitor),
            Value::String(s) => visitor.visit_string(s),
            Value::Array(items) => visit_array(items, visitor),
            Value::Object(map) => visit_object(map, visitor),
        }
    }

    numbers! {
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
        deserialize_f32 deserialize_f64
    }

    strings! { deserialize_char deserialize_str deserialize_string deserialize_identifier }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Classified> {
        match self.0 {
            Value::Bool(b) => visitor.visit_bool(b),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Classified> {
        match self.0 {
            Value::String(s) => visitor.visit_string(s),
            Value::Array(items) => visit_array(items, visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Classified> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Classified> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Classified> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Classified> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Classified> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Classified> {
        match self.0 {
            Value::Array(items) => visit_array(items, visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Classified> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Classified> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Classified> {
        match self.0 {
            Value::Object(map) => visit_object(map, visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Classified> {
        match self.0 {
            Value::Array(items) => visit_array(items, visitor),
            Value::Object(map) => visit_object(map, visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Classified> {
        match self.0 {
            Value::String(variant) => visitor.visit_enum(Variant {
                name: variant,
                value: None,
            }),
            Value::Object(map) if map.len() == 1 => {
                let Some((name, value)) = map.into_iter().next() else {
                    return Err(de::Error::invalid_value(
                        Unexpected::Map,
                        &"map with a single key",
                    ));
                };
                visitor.visit_enum(Variant {
                    name,
                    value: Some(value),
                })
            }
            Value::Object(_) => Err(de::Error::invalid_value(
                Unexpected::Map,
                &"map with a single key",
            )),
            other => Err(de::Error::invalid_type(
                unexpected(&other),
                &"string or map",
            )),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Classified> {
        drop(self);
        visitor.visit_unit()
    }
}

/// An enum variant: its name and, for a newtype, tuple or struct variant, its value.
struct Variant {
    name: String,
    value: Option<Value>,
}

impl<'de> EnumAccess<'de> for Variant {
    type Error = Classified;
    type Variant = VariantValue;

    fn variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<(T::Value, VariantValue), Classified> {
        let variant = seed.deserialize(ValueDeserializer(Value::String(self.name)))?;
        Ok((variant, VariantValue(self.value)))
    }
}

/// The value of a variant, if it has one.
struct VariantValue(Option<Value>);

impl<'de> VariantAccess<'de> for VariantValue {
    type Error = Classified;

    fn unit_variant(self) -> Result<(), Classified> {
        match self.0 {
            None | Some(Value::Null) => Ok(()),
            Some(other) => Err(de::Error::invalid_type(unexpected(&other), &"unit variant")),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, Classified> {
        match self.0 {
            Some(value) => seed.deserialize(ValueDeserializer(value)),
            None => Err(de::Error::invalid_type(
                Unexpected::UnitVariant,
                &"newtype variant",
            )),
        }
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Classified> {
        match self.0 {
            Some(Value::Array(items)) => visit_array(items, visitor),
            Some(other) => Err(de::Error::invalid_type(
                unexpected(&other),
                &"tuple variant",
            )),
            None => Err(de::Error::invalid_type(
                Unexpected::UnitVariant,
                &"tuple variant",
            )),
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Classified> {
        match self.0 {
            Some(Value::Object(map)) => visit_object(map, visitor),
            Some(other) => Err(de::Error::invalid_type(
                unexpected(&other),
                &"struct variant",
            )),
            None => Err(de::Error::invalid_type(
                Unexpected::UnitVariant,
                &"struct variant",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        amount_vnd: i64,
        rate_percent: Option<rust_decimal::Decimal>,
        on: Option<chrono::NaiveDate>,
    }

    fn parse(json: &str) -> (String, Classified) {
        let value: Value = serde_json::from_str(json).unwrap();
        let err =
            serde_path_to_error::deserialize::<_, Body>(ValueDeserializer(value)).unwrap_err();
        (err.path().to_string(), err.into_inner())
    }

    #[test]
    fn each_failure_keeps_its_kind_and_its_path() {
        assert_eq!(
            parse(r#"{"amount_vnd": 1, "x": 2}"#),
            ("x".into(), Classified::UnknownField("x".into()))
        );
        assert_eq!(
            parse(r#"{}"#),
            (".".into(), Classified::MissingField("amount_vnd"))
        );
        assert_eq!(
            parse(r#"{"amount_vnd": "1"}"#),
            (
                "amount_vnd".into(),
                Classified::InvalidType {
                    expected: "i64".into()
                }
            )
        );
        // A decimal is a string: a number is refused, as serde_json's own deserializer does.
        assert!(matches!(
            parse(r#"{"amount_vnd": 1, "rate_percent": 12}"#),
            (path, Classified::InvalidType { .. }) if path == "rate_percent"
        ));
        assert!(matches!(
            parse(r#"{"amount_vnd": 1, "on": "2026-02-30"}"#),
            (path, Classified::Invalid(_)) if path == "on"
        ));
    }
}
