//! [`PoolBackend`] under autodiff: the inner backend's pooling with indices, and a backward node
//! that scatters the output gradient through them.

use burn::backend::Autodiff;
use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::{FloatTensor, IntTensor};

use super::PoolBackend;

impl<B: PoolBackend, C: CheckpointStrategy> PoolBackend for Autodiff<B, C> {
    fn max_pool(
        x: FloatTensor<Self>,
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
    ) -> FloatTensor<Self> {
        match MaxPoolBackward.prepare::<C>([x.node()]).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                let (out, indices) = B::max_pool_with_indices(x.into_primitive(), kernel, stride, padding);
                prep.finish(MaxPoolState { x: x_state, indices, kernel, stride, padding }, out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::max_pool(x.into_primitive(), kernel, stride, padding)),
        }
    }
}

/// The backward step of [`PoolBackend::max_pool`].
#[derive(Debug)]
struct MaxPoolBackward;

/// What the backward step needs: the input (for its shape), the argmax indices, the window.
#[derive(Debug, Clone)]
struct MaxPoolState<B: PoolBackend> {
    x: NodeId,
    indices: IntTensor<B>,
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
}

impl<B: PoolBackend> Backward<B, 1> for MaxPoolBackward {
    type State = MaxPoolState<B>;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let [node_x] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let s = ops.state;
        let x: FloatTensor<B> = checkpointer.retrieve_node_output(s.x);
        if let Some(node) = node_x {
            let dx = B::max_pool_input_grad(x, grad, s.indices, s.kernel, s.stride, s.padding);
            grads.register::<B>(node.id, dx);
        }
    }
}
