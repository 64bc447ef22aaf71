//! The tests `testgen` writes, and the one hand-written replay harness they call.
//!
//! **Architecture invariant:** expected results here come from the model, never from running
//! the implementation. It is empty until the generator lands.
