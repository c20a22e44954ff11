//! [`ConvBackend`] under autodiff: the forward of the inner backend and a backward node that
//! calls its two gradient operations.

use burn::backend::Autodiff;
use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;

use super::{ConvBackend, Input};

impl<B: ConvBackend, C: CheckpointStrategy> ConvBackend for Autodiff<B, C> {
    fn conv_forward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        padding: [usize; 2],
        input: Input,
    ) -> FloatTensor<Self> {
        match ConvBackward.prepare::<C>([x.node(), weight.node(), bias.node()]).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let state = ConvState {
                    x: prep.checkpoint(&x),
                    weight: prep.checkpoint(&weight),
                    bias: prep.checkpoint(&bias),
                    padding,
                    input,
                };
                prep.finish(
                    state,
                    B::conv_forward(x.into_primitive(), weight.into_primitive(), bias.into_primitive(), padding, input),
                )
            }
            OpsKind::UnTracked(prep) => prep.finish(B::conv_forward(
                x.into_primitive(),
                weight.into_primitive(),
                bias.into_primitive(),
                padding,
                input,
            )),
        }
    }
}

/// The backward step of [`ConvBackend::conv_forward`].
#[derive(Debug)]
struct ConvBackward;

/// What the backward step needs: the checkpointed inputs, the padding and what was read of `x`.
#[derive(Debug, Clone)]
struct ConvState {
    x: NodeId,
    weight: NodeId,
    bias: NodeId,
    padding: [usize; 2],
    input: Input,
}

impl<B: ConvBackend> Backward<B, 3> for ConvBackward {
    type State = ConvState;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let [node_x, node_weight, node_bias] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let state = ops.state;
        let x: FloatTensor<B> = checkpointer.retrieve_node_output(state.x);
        let weight: FloatTensor<B> = checkpointer.retrieve_node_output(state.weight);
        let bias: FloatTensor<B> = checkpointer.retrieve_node_output(state.bias);

        if let Some(node) = node_x {
            let dx = B::conv_input_grad(x.clone(), weight.clone(), grad.clone(), state.padding, state.input);
            grads.register::<B>(node.id, dx);
        }
        if node_weight.is_some() || node_bias.is_some() {
            let (dw, db) = B::conv_param_grads(x, weight, bias, grad, state.padding, state.input);
            if let Some(node) = node_weight {
                grads.register::<B>(node.id, dw);
            }
            if let Some(node) = node_bias {
                grads.register::<B>(node.id, db);
            }
        }
    }
}
