// Dispatchers of the fused x and r steps: check the tensors once, then run the CPU loops
// (guidance_cpu.cpp) or the CUDA twin (guidance.cu) on the tensors' device.
#include "kernels/guidance/guidance.hpp"

#include "core/check.hpp"
#include "kernels/dispatch.hpp"
#include "kernels/guidance/guidance_cpu.hpp"

namespace diffevent {
inline namespace v1 {
namespace kernels {

at::Tensor fused_x_step(const at::Tensor& x_t_in, const at::Tensor& eps_in, const at::Tensor& y_in,
                        const at::Tensor& fe_in, const at::Tensor& w_in, const at::Tensor& R_in,
                        const at::Tensor& var_in, const at::Tensor& z_in, const at::Tensor& v_in,
                        const GuidanceParams& p) {
  DIFFEVENT_CHECK(x_t_in.dim() == 4 && x_t_in.scalar_type() == at::kFloat, ErrorCode::kInternal,
                  "fused_x_step: x_t must be float [N,C,H,W]");
  const at::Tensor x_t = x_t_in.contiguous(), eps = dense(eps_in), y = dense(y_in),
                   fe = dense(fe_in), w = dense(w_in), R = dense(R_in), var = dense(var_in),
                   z = dense(z_in), v = dense(v_in);
  const int64_t N = x_t.size(0), C = x_t.size(1), H = x_t.size(2), W = x_t.size(3),
                n = N * C * H * W;
  auto ok = [&](const at::Tensor& t, int64_t numel) {
    return t.defined() && t.scalar_type() == at::kFloat && t.numel() == numel &&
           t.device() == x_t.device();
  };
  DIFFEVENT_CHECK(
      ok(eps, n) && ok(y, n) && ok(fe, N * H * W) && (!w.defined() || ok(w, N * H * W)) &&
          (!R.defined() || ok(R, n)) && (ok(var, 1) || ok(var, n)) &&
          ((p.last && !p.analytic) || ok(z, n)) && (!p.learned || ok(v, n)),
      ErrorCode::kInternal, "fused_x_step: inconsistent inputs (sizes, dtype or device)");
  at::Tensor out = at::empty_like(x_t);
  const float* wp = w.defined() ? w.data_ptr<float>() : nullptr;
  const float* Rp = R.defined() ? R.data_ptr<float>() : nullptr;
  const float* zp = (p.last && !p.analytic) ? nullptr : z.data_ptr<float>();
  const float* vp = p.learned ? v.data_ptr<float>() : nullptr;
  if (x_t.is_cuda()) {
#ifdef DIFFEVENT_HAVE_CUDA
    const cuda::XStepArgs a{N,
                            C,
                            H,
                            W,
                            x_t.data_ptr<float>(),
                            eps.data_ptr<float>(),
                            y.data_ptr<float>(),
                            fe.data_ptr<float>(),
                            wp,
                            Rp,
                            var.data_ptr<float>(),
                            var.numel() == 1,
                            zp,
                            vp,
                            out.data_ptr<float>()};
    DIFFEVENT_CHECK(p.lambda_tv <= 0.f || N * C <= 65535, ErrorCode::kInvalidArgument,
                    "fused_x_step: at most 65535 frames x channels per CUDA launch, got {}", N * C);
    const CudaContext ctx(x_t);
    check_launch(p.lambda_tv > 0.f ? cuda::launch_x_step<true>(a, p, ctx.stream)
                                   : cuda::launch_x_step<false>(a, p, ctx.stream),
                 "fused_x_step");
    return out;
#else
    throw Error(
        ErrorCode::kUnsupported,
        "fused_x_step: tensors are on CUDA but this diffevent was built without CUDA kernels");
#endif
  }
  x_step_cpu(N * C, C, H, W, x_t.data_ptr<float>(), eps.data_ptr<float>(), y.data_ptr<float>(),
             fe.data_ptr<float>(), wp, Rp, var.data_ptr<float>(), var.numel() == 1, zp, vp, p,
             out.data_ptr<float>());
  return out;
}

at::Tensor fused_r_step(const at::Tensor& r_t_in, const at::Tensor& R_hat_in,
                        const at::Tensor& y_in, const at::Tensor& fe_in, const at::Tensor& w_in,
                        const at::Tensor& Xs_in, const at::Tensor& var_in, const at::Tensor& z_in,
                        const at::Tensor& v_in, float s_r, float lambda_l1,
                        const GuidanceParams& p) {
  DIFFEVENT_CHECK(r_t_in.dim() == 4 && r_t_in.scalar_type() == at::kFloat, ErrorCode::kInternal,
                  "fused_r_step: r_t must be float [N,C,H,W]");
  const at::Tensor r_t = r_t_in.contiguous(), R_hat = dense(R_hat_in), y = dense(y_in),
                   fe = dense(fe_in), w = dense(w_in), Xs = dense(Xs_in), var = dense(var_in),
                   z = dense(z_in), v = dense(v_in);
  const int64_t N = r_t.size(0), C = r_t.size(1), plane = r_t.size(2) * r_t.size(3),
                n = r_t.numel();
  auto ok = [&](const at::Tensor& t, int64_t numel) {
    return t.defined() && t.scalar_type() == at::kFloat && t.numel() == numel &&
           t.device() == r_t.device();
  };
  DIFFEVENT_CHECK(
      ok(R_hat, n) && ok(y, n) && ok(fe, N * plane) && (!w.defined() || ok(w, N * plane)) &&
          ok(Xs, n) && (ok(var, 1) || ok(var, n)) && (p.last || ok(z, n)) &&
          (!p.learned || ok(v, n)),
      ErrorCode::kInternal, "fused_r_step: inconsistent inputs (sizes, dtype or device)");
  at::Tensor out = at::empty_like(r_t);
  const float* wp = w.defined() ? w.data_ptr<float>() : nullptr;
  const float* zp = p.last ? nullptr : z.data_ptr<float>();
  const float* vp = p.learned ? v.data_ptr<float>() : nullptr;
  if (r_t.is_cuda()) {
#ifdef DIFFEVENT_HAVE_CUDA
    const cuda::RStepArgs a{N,
                            C,
                            r_t.size(2),
                            r_t.size(3),
                            r_t.data_ptr<float>(),
                            R_hat.data_ptr<float>(),
                            y.data_ptr<float>(),
                            fe.data_ptr<float>(),
                            wp,
                            Xs.data_ptr<float>(),
                            var.data_ptr<float>(),
                            var.numel() == 1,
                            zp,
                            vp,
                            out.data_ptr<float>()};
    const CudaContext ctx(r_t);
    check_launch(cuda::launch_r_step(a, s_r, lambda_l1, p, ctx.stream), "fused_r_step");
    return out;
#else
    throw Error(
        ErrorCode::kUnsupported,
        "fused_r_step: tensors are on CUDA but this diffevent was built without CUDA kernels");
#endif
  }
  r_step_cpu(N, C, plane, r_t.data_ptr<float>(), R_hat.data_ptr<float>(), y.data_ptr<float>(),
             fe.data_ptr<float>(), wp, Xs.data_ptr<float>(), var.data_ptr<float>(),
             var.numel() == 1, zp, vp, s_r, lambda_l1, p, out.data_ptr<float>());
  return out;
}

}  // namespace kernels
}  // namespace v1
}  // namespace diffevent
