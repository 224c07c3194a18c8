pub mod dense;
pub mod max_pool;
#[cfg(test)]
mod tests;
