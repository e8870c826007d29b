// Check-in on a phone: read the member card's QR with the camera (BarcodeDetector, where the
// browser has it) and submit it; otherwise a scanner gun or typing fills the field.
(function () {
  var button = document.getElementById("checkin-camera");
  var video = document.getElementById("checkin-video");
  var form = document.getElementById("checkin-form");
  var input = document.getElementById("token");
  if (!button || !("BarcodeDetector" in window) || !navigator.mediaDevices) {
    if (button) button.classList.add("d-none");
    return;
  }
  button.addEventListener("click", function () {
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      video.srcObject = stream;
      video.classList.remove("d-none");
      button.classList.add("d-none");
      video.play();
      var tick = function () {
        detector.detect(video).then(function (codes) {
          if (codes.length) {
            stream.getTracks().forEach(function (t) { t.stop(); });
            input.value = codes[0].rawValue;
            form.submit();
          } else {
            window.requestAnimationFrame(tick);
          }
        }).catch(function () { window.requestAnimationFrame(tick); });
      };
      tick();
    });
  });
})();
