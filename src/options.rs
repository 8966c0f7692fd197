//! One convention for option enums: a fixed set of named values (a path, a
//! preconditioner, a precision, …) read from a flag, a keyword argument or a setting.
//!
//! Each enum declares its names once with `option_enum!`, which implements
//! [`OptionEnum`], [`std::str::FromStr`], [`std::fmt::Display`] and clap's
//! [`clap::ValueEnum`] from that one table. `FromStr` fails with an
//! [`Error::Invalid`] naming the enum's own argument ([`OptionEnum::ARG`]) and
//! listing the accepted values; a caller that knows the argument's spelling (a flag
//! `--path`, a Python keyword `path`) parses with [`parse`], which names that instead
//! (also for the option types with a parameter, e.g. [`crate::data::labeling::Labeling`],
//! which implement `FromStr` and `Display` by hand).

use crate::error::{Error, Result};
use std::str::FromStr;

/// An enum of named options.
pub trait OptionEnum: Copy + Sized + 'static {
    /// The argument the value belongs to, as the library names it (e.g. `preset`).
    const ARG: &'static str;
    /// Every value, in the order the accepted names are listed.
    const ALL: &'static [Self];
    /// The name (the spelling `Display` writes and `FromStr` reads).
    fn name(self) -> &'static str;
    /// Other spellings `FromStr` also reads (not listed in messages).
    fn aliases(self) -> &'static [&'static str] {
        &[]
    }
    /// Whether `FromStr` ignores ASCII case, underscores and surrounding blanks (an enum
    /// declared `option_enum!(Type, "arg", loose, { … })`, e.g. the complexity measures,
    /// read as `CN`, `cn` or `C_N`); the others read their names exactly.
    const LOOSE: bool = false;
}

/// `s` as a [`OptionEnum::LOOSE`] enum compares it: trimmed, lower case, no underscores.
fn fold(s: &str) -> String {
    s.trim().to_ascii_lowercase().replace('_', "")
}

/// "a, b or c": the accepted names of `T`.
pub fn accepted<T: OptionEnum>() -> String {
    let names: Vec<&str> = T::ALL.iter().map(|v| v.name()).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.join(""),
    }
}

/// The value of `T` named `s`; an unknown name is an [`Error::Invalid`] naming
/// [`OptionEnum::ARG`] and listing the accepted names. `FromStr` of every option enum.
pub fn lookup<T: OptionEnum>(s: &str) -> Result<T> {
    let found = if T::LOOSE {
        let key = fold(s);
        T::ALL
            .iter()
            .copied()
            .find(|v| fold(v.name()) == key || v.aliases().iter().any(|a| fold(a) == key))
    } else {
        T::ALL
            .iter()
            .copied()
            .find(|v| v.name() == s || v.aliases().contains(&s))
    };
    let loose = if T::LOOSE {
        " (case and underscores ignored)"
    } else {
        ""
    };
    found.ok_or_else(|| {
        Error::invalid(
            T::ARG,
            format!("'{s}' is not one of {}{loose}", accepted::<T>()),
        )
    })
}

/// Reads `s` with `T`'s `FromStr` for the argument `arg` as the caller spells it (a
/// flag `--path`, a Python keyword `path`): an [`Error::Invalid`] then names `arg`.
pub fn parse<T: FromStr<Err = Error>>(arg: &str, s: &str) -> Result<T> {
    s.parse::<T>().map_err(|e| match e {
        Error::Invalid { msg, .. } => Error::invalid(arg, msg),
        other => other,
    })
}

/// Implements [`OptionEnum`], `FromStr`, `Display` and `clap::ValueEnum` for an enum
/// from one table: `option_enum!(Type, "arg", { Variant => "name" | "alias", … })`; a
/// variant may end with `; "help"` (its help in `--help`). `option_enum!(Type, "arg",
/// loose, { … })` reads the names ignoring case and underscores ([`OptionEnum::LOOSE`]).
macro_rules! option_enum {
    ($ty:ident, $arg:literal, loose, { $($body:tt)* }) => {
        $crate::options::option_enum!(@impl $ty, $arg, true, { $($body)* });
    };
    ($ty:ident, $arg:literal, { $($body:tt)* }) => {
        $crate::options::option_enum!(@impl $ty, $arg, false, { $($body)* });
    };
    (@impl $ty:ident, $arg:literal, $loose:literal, { $( $var:ident => $name:literal $(| $alias:literal)* $(; $help:literal)? ),+ $(,)? }) => {
        impl $ty {
            /// The name of the value (what `Display` writes and `FromStr` reads).
            pub fn name(self) -> &'static str {
                match self {
                    $($ty::$var => $name),+
                }
            }
        }
        impl $crate::options::OptionEnum for $ty {
            const ARG: &'static str = $arg;
            const ALL: &'static [Self] = &[$($ty::$var),+];
            const LOOSE: bool = $loose;
            fn name(self) -> &'static str {
                $ty::name(self)
            }
            fn aliases(self) -> &'static [&'static str] {
                match self {
                    $($ty::$var => &[$($alias),*]),+
                }
            }
        }
        impl ::std::str::FromStr for $ty {
            type Err = $crate::error::Error;
            fn from_str(s: &str) -> $crate::error::Result<Self> {
                $crate::options::lookup(s)
            }
        }
        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str($crate::options::OptionEnum::name(*self))
            }
        }
        impl ::clap::ValueEnum for $ty {
            fn value_variants<'a>() -> &'a [Self] {
                <Self as $crate::options::OptionEnum>::ALL
            }
            fn to_possible_value(&self) -> Option<::clap::builder::PossibleValue> {
                Some(match self {
                    $($ty::$var => ::clap::builder::PossibleValue::new($name)
                        $(.alias($alias))* $(.help($help))?),+
                })
            }
        }
    };
}
pub(crate) use option_enum;
