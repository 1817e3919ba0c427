-- wrk script: POST one mlp row (64 x FP32, every element 1.0) as JSON tensors. Usage:
--   wrk -t2 -c16 -d10s -s serve/src/test/wrk/infer-json.lua http://127.0.0.1:8000
local model = os.getenv("MODEL") or "mlp"
local data = {}
for i = 1, 64 do
  data[i] = "1.0"
end
wrk.method = "POST"
wrk.path = "/v2/models/" .. model .. "/infer"
wrk.body = '{"inputs":[{"name":"features","datatype":"FP32","shape":[1,64],"data":[' .. table.concat(data, ",") .. ']}]}'
wrk.headers["Content-Type"] = "application/json"
