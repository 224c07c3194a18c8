pub mod batchnorm;
pub mod pooling;
pub(crate) mod pool_2x2;
pub mod loss;
#[cfg(test)]
mod tests;
