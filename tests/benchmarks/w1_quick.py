import sys, time, gc, random, math
eng = sys.argv[1]
if eng == 'micrograd':
    from micrograd.engine import Value
else:
    sys.path.insert(0, '/work/main')
    from micrograd_like import Value
if len(sys.argv) > 2 and sys.argv[2] == 'off': gc.disable()
random.seed(1)
class Neuron:
    def __init__(s, nin, nonlin=True):
        s.w=[Value(random.uniform(-1,1)) for _ in range(nin)]; s.b=Value(0); s.nonlin=nonlin
    def __call__(s,x):
        act=sum((wi*xi for wi,xi in zip(s.w,x)), s.b)
        return act.relu() if s.nonlin else act
    def parameters(s): return s.w+[s.b]
class MLP:
    def __init__(s, nin, nouts):
        sz=[nin]+nouts
        s.layers=[[Neuron(sz[i], i!=len(nouts)-1) for _ in range(sz[i+1])] for i in range(len(nouts))]
    def __call__(s,x):
        for l in s.layers:
            out=[n(x) for n in l]; x = out[0] if len(out)==1 else out
        return x
    def parameters(s): return [p for l in s.layers for n in l for p in n.parameters()]
X=[[random.uniform(-1,2), random.uniform(-1,1)] for _ in range(100)]; y=[random.choice([-1,1]) for _ in range(100)]
model=MLP(2,[16,16,1])
def step():
    inputs=[list(map(Value,xr)) for xr in X]
    scores=list(map(model,inputs))
    losses=[(1+-yi*si).relu() for yi,si in zip(y,scores)]
    data_loss=sum(losses)*(1.0/len(losses))
    reg=1e-4*sum((p*p for p in model.parameters()))
    total=data_loss+reg
    for p in model.parameters(): p.grad=0
    total.backward()
    for p in model.parameters(): p.data-=0.01*p.grad
    return total.data
ts=[]
for r in range(5):
    t=time.perf_counter(); step(); ts.append(time.perf_counter()-t)
print(eng, sorted(ts)[2])
