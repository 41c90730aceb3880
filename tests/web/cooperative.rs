//! Browser tests of the cooperative pages.
