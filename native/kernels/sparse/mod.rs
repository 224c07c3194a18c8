pub mod csr;
pub mod tile;
pub mod forward;
pub mod lanes;
mod tests;
