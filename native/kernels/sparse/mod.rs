pub mod csr;
pub mod tile;
pub mod forward;
pub mod lanes;
#[cfg(test)]
mod tests;
