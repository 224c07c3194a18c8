pub mod choose;
pub mod conv2d;
pub mod im2col;
pub mod im2col_s1;
mod col2im_s2;
pub mod implicit;
pub mod rows;
pub mod epilogue;
pub mod winograd;
pub mod outer_wgrad;
#[cfg(test)]
mod tests;
