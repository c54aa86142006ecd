// Signs the page's SM2 challenge with a USB key, when the key's browser adapter is present.
// The adapter (from the key's vendor) defines window.zhengyunSm2Signer(challenge), which
// resolves to the base64 DER SM2 signature (SM3, signer ID 1234567812345678) of the exact
// challenge text. Without an adapter nothing changes: the signature is pasted by hand.
document.querySelectorAll("form[data-sm2-challenge]").forEach(function (form) {
  if (typeof window.zhengyunSm2Signer !== "function") return;
  var button = form.querySelector("[data-sm2-sign]");
  button.hidden = false;
  button.addEventListener("click", function () {
    button.disabled = true;
    Promise.resolve(window.zhengyunSm2Signer(form.dataset.sm2Challenge))
      .then(function (signature) {
        form.querySelector("textarea[name=signature]").value = signature;
        form.submit();
      })
      .catch(function () { button.disabled = false; });
  });
});
