//! Non-finite floats in result files. JSON has no NaN or ±∞ and serde_json writes them as
//! `null`, which then does not read back into an `f64` field: a result holding a NaN could
//! not be judged again. [`Encoded`] serializes any value with every non-finite `f64`/`f32`
//! written as the string `"NaN"`, `"inf"` or `"-inf"` (finite values unchanged, standard
//! JSON); [`from_value`] deserializes any type with every float field accepting those
//! strings, and `null` as NaN (files written before), so every float field of a result
//! round-trips exactly, whatever its type (a field, an `Option<f64>`, a list, a tuple, a
//! nested struct) and without a per-field annotation.

use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, Visitor};
use serde::ser::{self, Serialize, Serializer};
use std::fmt;

/// The string written for a non-finite `v` (None when `v` is finite).
pub fn non_finite_name(v: f64) -> Option<&'static str> {
    if v.is_nan() {
        Some("NaN")
    } else if v == f64::INFINITY {
        Some("inf")
    } else if v == f64::NEG_INFINITY {
        Some("-inf")
    } else {
        None
    }
}

/// The float named by a string of [`non_finite_name`] (also "Infinity", "-Infinity").
pub fn parse_non_finite(s: &str) -> Option<f64> {
    match s {
        "NaN" | "nan" => Some(f64::NAN),
        "inf" | "Infinity" | "+inf" => Some(f64::INFINITY),
        "-inf" | "-Infinity" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

/// `value` serialized with non-finite floats as strings (see the module documentation).
pub struct Encoded<'a, T: ?Sized>(pub &'a T);

impl<T: Serialize + ?Sized> Serialize for Encoded<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(Enc(s))
    }
}

/// `T` deserialized from `v` with float fields accepting the strings of [`Encoded`] and
/// `null` (NaN).
pub fn from_value<T: DeserializeOwned>(v: serde_json::Value) -> serde_json::Result<T> {
    T::deserialize(Dec(v))
}

// ---------------------------------------------------------------- serializing

struct Enc<S>(S);

/// The compound serializers, each wrapping its elements.
struct EncCompound<C>(C);

macro_rules! forward_ser {
    ($($m:ident($t:ty)),*) => {
        $(fn $m(self, v: $t) -> Result<S::Ok, S::Error> { self.0.$m(v) })*
    };
}

impl<S: Serializer> Serializer for Enc<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = EncCompound<S::SerializeSeq>;
    type SerializeTuple = EncCompound<S::SerializeTuple>;
    type SerializeTupleStruct = EncCompound<S::SerializeTupleStruct>;
    type SerializeTupleVariant = EncCompound<S::SerializeTupleVariant>;
    type SerializeMap = EncCompound<S::SerializeMap>;
    type SerializeStruct = EncCompound<S::SerializeStruct>;
    type SerializeStructVariant = EncCompound<S::SerializeStructVariant>;

    forward_ser!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_i128(i128),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_u128(u128),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8])
    );

    fn serialize_f32(self, v: f32) -> Result<S::Ok, S::Error> {
        match non_finite_name(v as f64) {
            Some(name) => self.0.serialize_str(name),
            None => self.0.serialize_f32(v),
        }
    }
    fn serialize_f64(self, v: f64) -> Result<S::Ok, S::Error> {
        match non_finite_name(v) {
            Some(name) => self.0.serialize_str(name),
            None => self.0.serialize_f64(v),
        }
    }
    fn serialize_none(self) -> Result<S::Ok, S::Error> {
        self.0.serialize_none()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<S::Ok, S::Error> {
        self.0.serialize_some(&Encoded(v))
    }
    fn serialize_unit(self) -> Result<S::Ok, S::Error> {
        self.0.serialize_unit()
    }
    fn serialize_unit_struct(self, name: &'static str) -> Result<S::Ok, S::Error> {
        self.0.serialize_unit_struct(name)
    }
    fn serialize_unit_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
    ) -> Result<S::Ok, S::Error> {
        self.0.serialize_unit_variant(name, index, variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        v: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0.serialize_newtype_struct(name, &Encoded(v))
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0
            .serialize_newtype_variant(name, index, variant, &Encoded(v))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        self.0.serialize_seq(len).map(EncCompound)
    }
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        self.0.serialize_tuple(len).map(EncCompound)
    }
    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        self.0.serialize_tuple_struct(name, len).map(EncCompound)
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        self.0
            .serialize_tuple_variant(name, index, variant, len)
            .map(EncCompound)
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        self.0.serialize_map(len).map(EncCompound)
    }
    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        self.0.serialize_struct(name, len).map(EncCompound)
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        self.0
            .serialize_struct_variant(name, index, variant, len)
            .map(EncCompound)
    }
    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

macro_rules! enc_compound {
    ($tr:ident, $m:ident) => {
        impl<C: ser::$tr> ser::$tr for EncCompound<C> {
            type Ok = C::Ok;
            type Error = C::Error;
            fn $m<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), C::Error> {
                self.0.$m(&Encoded(v))
            }
            fn end(self) -> Result<C::Ok, C::Error> {
                self.0.end()
            }
        }
    };
}
enc_compound!(SerializeSeq, serialize_element);
enc_compound!(SerializeTuple, serialize_element);
enc_compound!(SerializeTupleStruct, serialize_field);
enc_compound!(SerializeTupleVariant, serialize_field);

impl<C: ser::SerializeMap> ser::SerializeMap for EncCompound<C> {
    type Ok = C::Ok;
    type Error = C::Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> Result<(), C::Error> {
        self.0.serialize_key(k)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), C::Error> {
        self.0.serialize_value(&Encoded(v))
    }
    fn end(self) -> Result<C::Ok, C::Error> {
        self.0.end()
    }
}

macro_rules! enc_struct {
    ($tr:ident) => {
        impl<C: ser::$tr> ser::$tr for EncCompound<C> {
            type Ok = C::Ok;
            type Error = C::Error;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                v: &T,
            ) -> Result<(), C::Error> {
                self.0.serialize_field(key, &Encoded(v))
            }
            fn skip_field(&mut self, key: &'static str) -> Result<(), C::Error> {
                self.0.skip_field(key)
            }
            fn end(self) -> Result<C::Ok, C::Error> {
                self.0.end()
            }
        }
    };
}
enc_struct!(SerializeStruct);
enc_struct!(SerializeStructVariant);

// ---------------------------------------------------------------- deserializing

/// A JSON value deserialized with float fields reading the strings of [`Encoded`] and
/// `null` as NaN; every nested value is wrapped in turn.
struct Dec(serde_json::Value);

/// Float visitor: numbers as themselves, `null` as NaN, the names of non-finite values.
struct FloatVisitor<V>(V);

impl<'de, V: Visitor<'de>> Visitor<'de> for FloatVisitor<V> {
    type Value = V::Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.0.expecting(f)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<V::Value, E> {
        self.0.visit_f64(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<V::Value, E> {
        self.0.visit_i64(v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<V::Value, E> {
        self.0.visit_u64(v)
    }
    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_f64(f64::NAN)
    }
    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_f64(f64::NAN)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<V::Value, E> {
        match parse_non_finite(v) {
            Some(x) => self.0.visit_f64(x),
            None => self.0.visit_str(v),
        }
    }
}

fn wrap_seq(
    v: Vec<serde_json::Value>,
) -> de::value::SeqDeserializer<std::vec::IntoIter<Dec>, serde_json::Error> {
    de::value::SeqDeserializer::new(v.into_iter().map(Dec).collect::<Vec<_>>().into_iter())
}

fn wrap_map<'de>(
    m: serde_json::Map<String, serde_json::Value>,
) -> de::value::MapDeserializer<'de, std::vec::IntoIter<(String, Dec)>, serde_json::Error> {
    de::value::MapDeserializer::new(
        m.into_iter()
            .map(|(k, v)| (k, Dec(v)))
            .collect::<Vec<_>>()
            .into_iter(),
    )
}

impl<'de> de::IntoDeserializer<'de, serde_json::Error> for Dec {
    type Deserializer = Dec;
    fn into_deserializer(self) -> Dec {
        self
    }
}

impl<'de> Deserializer<'de> for Dec {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> serde_json::Result<V::Value> {
        use serde_json::Value;
        match self.0 {
            Value::Array(a) => {
                let mut seq = wrap_seq(a);
                let v = visitor.visit_seq(&mut seq)?;
                seq.end()?;
                Ok(v)
            }
            Value::Object(m) => {
                let mut map = wrap_map(m);
                let v = visitor.visit_map(&mut map)?;
                map.end()?;
                Ok(v)
            }
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> serde_json::Result<V::Value> {
        self.0.deserialize_any(FloatVisitor(visitor))
    }
    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> serde_json::Result<V::Value> {
        self.0.deserialize_any(FloatVisitor(visitor))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> serde_json::Result<V::Value> {
        match self.0 {
            serde_json::Value::Null => visitor.visit_none(),
            v => visitor.visit_some(Dec(v)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> serde_json::Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> serde_json::Result<V::Value> {
        use serde_json::Value;
        match self.0 {
            // {"Variant": content}: the content wrapped in turn
            Value::Object(m) if m.len() == 1 => {
                let (k, v) = m.into_iter().next().expect("one entry");
                visitor.visit_enum(EnumDec(k, v))
            }
            other => other.deserialize_enum(name, variants, visitor),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 char str string bytes byte_buf unit
        unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

/// An externally tagged enum variant with content.
struct EnumDec(String, serde_json::Value);

impl<'de> de::EnumAccess<'de> for EnumDec {
    type Error = serde_json::Error;
    type Variant = Dec;
    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> serde_json::Result<(S::Value, Dec)> {
        let tag = seed.deserialize(serde_json::Value::String(self.0))?;
        Ok((tag, Dec(self.1)))
    }
}

impl<'de> de::VariantAccess<'de> for Dec {
    type Error = serde_json::Error;
    fn unit_variant(self) -> serde_json::Result<()> {
        match self.0 {
            serde_json::Value::Null => Ok(()),
            other => Err(de::Error::invalid_type(
                de::Unexpected::Other(&other.to_string()),
                &"a unit variant",
            )),
        }
    }
    fn newtype_variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> serde_json::Result<S::Value> {
        seed.deserialize(self)
    }
    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> serde_json::Result<V::Value> {
        self.deserialize_any(visitor)
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> serde_json::Result<V::Value> {
        self.deserialize_any(visitor)
    }
}
